"""Write ``data/samples/filing.csv``, the bundled sample filing.

    python scripts/make_sample_filing.py

Thirteen fictional operators across the four pilot zones: compliant filings,
every siting rule broken at least once, rows near a border, and coordinates in
WGS-84, GCJ-02 and BD-09 as different map pickers give them. Operators and
facility names are invented; each site is placed at an approximate public
WGS-84 position of the named area (district centres, landmarks, ports) and
converted into the coordinate system its row declares, so the file is exactly
what a filer with that map picker would send.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pilotzone.crs import from_wgs84

OUT = Path(__file__).resolve().parents[1] / "data" / "samples" / "filing.csv"
COLUMNS = ["operator_id", "facility_id", "name", "address", "kind", "tenure", "services",
           "via_basic_carrier", "lon", "lat", "crs"]

# operator, facility, name, address, kind, tenure, services, via_basic_carrier, WGS-84 lon, lat, crs
ROWS = [
    # Lingang Cloud: registered in Lingang, everything inside Shanghai's zone (GCJ-02 from AMap).
    ("OP01", "REG", "Lingang Cloud Technology Co., Ltd.", "上海市浦东新区临港新片区环湖西二路888号",
     "registration", "", "idc;cdn;data_processing", "", 121.9290, 30.9010, "gcj02"),
    ("OP01", "IDC-1", "Lingang data center A", "上海市浦东新区临港新片区云端路", "idc", "owned", "", "",
     121.9050, 30.8880, "gcj02"),
    ("OP01", "IDC-2", "Zhangjiang rented hall", "上海市浦东新区张江高科技园区", "idc", "rented", "", "",
     121.6000, 31.2050, "gcj02"),
    ("OP01", "CDN-1", "Lujiazui edge node", "上海市浦东新区陆家嘴环路", "cdn", "rented", "", "",
     121.5050, 31.2400, "gcj02"),
    ("OP01", "CDN-2", "Fengxian Lingang node", "上海市奉贤区奉城镇", "cdn", "purchased", "", "",
     121.6300, 30.9200, "gcj02"),
    ("OP01", "CDN-3", "Jinhui Port east node", "上海市奉贤区南桥镇金汇港东侧", "cdn", "rented", "", "",
     121.5065, 30.9300, "gcj02"),
    # Pudong Networks: CDN rented in Puxi, a data center bought in Jiading.
    ("OP02", "REG", "Pudong Networks Ltd.", "上海市浦东新区金桥镇", "registration", "", "cdn;idc", "",
     121.6000, 31.2650, "wgs84"),
    ("OP02", "CDN-1", "People's Square node", "上海市黄浦区人民广场", "cdn", "rented", "", "",
     121.4737, 31.2304, "wgs84"),
    ("OP02", "IDC-1", "Jiading data center", "上海市嘉定区", "idc", "purchased", "", "",
     121.2650, 31.3750, "wgs84"),
    # Capital Compute: registered in Chaoyang (Baidu picker), racks rented in Tianjin, CDN in Langfang.
    ("OP03", "REG", "Capital Compute Co.", "北京市朝阳区建国路", "registration", "", "idc;cdn", "",
     116.4800, 39.9080, "bd09"),
    ("OP03", "IDC-1", "Yizhuang data center", "北京市大兴区亦庄经济技术开发区", "idc", "owned", "", "",
     116.5100, 39.7950, "bd09"),
    ("OP03", "IDC-2", "Tianjin rented racks", "天津市和平区", "idc", "rented", "", "",
     117.2009, 39.0842, "bd09"),
    ("OP03", "CDN-1", "Langfang acceleration node", "河北省廊坊市广阳区", "cdn", "rented", "", "",
     116.6830, 39.5380, "bd09"),
    # Haidian Media: declares internet news, which the pilot excludes.
    ("OP04", "REG", "Haidian Media Data Ltd.", "北京市海淀区中关村大街", "registration", "",
     "data_processing;news;online_games", "", 116.3160, 39.9830, "wgs84"),
    ("OP04", "SRV-1", "Haidian server room", "北京市海淀区上地", "server", "owned", "", "",
     116.3030, 40.0400, "wgs84"),
    # Nanshan Edge: CDN node in Dongguan, ISP point in Hong Kong.
    ("OP05", "REG", "Nanshan Edge Services Co.", "深圳市南山区科技园", "registration", "", "cdn;isp", "",
     113.9450, 22.5400, "gcj02"),
    ("OP05", "IDC-1", "Bao'an data center", "深圳市宝安区西乡街道", "idc", "owned", "", "",
     113.8700, 22.5800, "gcj02"),
    ("OP05", "CDN-1", "Dongguan node", "广东省东莞市南城街道", "cdn", "rented", "", "",
     113.7518, 23.0207, "gcj02"),
    ("OP05", "ISP-1", "Central access point", "香港中环", "isp", "rented", "", "",
     114.1588, 22.2830, "gcj02"),
    # Futian Exchange: a data center beside the Shenzhen River, close to the Hong Kong border.
    ("OP06", "REG", "Futian Exchange Data Co.", "深圳市福田区福华路", "registration", "", "idc", "",
     114.0550, 22.5410, "wgs84"),
    ("OP06", "IDC-1", "Huanggang riverside hall", "深圳市福田区皇岗口岸附近", "idc", "rented", "", "",
     114.0676, 22.5182, "wgs84"),
    # Island Data: Haikou registration, Sanya data center, CDN node across the strait in Zhanjiang.
    ("OP07", "REG", "Island Data Hainan Co.", "海南省海口市龙华区", "registration", "", "idc;cdn", "",
     110.3312, 20.0311, "gcj02"),
    ("OP07", "IDC-1", "Sanya data center", "海南省三亚市吉阳区", "idc", "owned", "", "",
     109.5119, 18.2528, "gcj02"),
    ("OP07", "CDN-1", "Zhanjiang node", "广东省湛江市赤坎区", "cdn", "rented", "", "",
     110.3650, 21.2700, "gcj02"),
    # Reef Networks: registered on Yongxing Island (Sansha), outside the Free Trade Port.
    ("OP08", "REG", "Reef Networks Co.", "海南省三沙市永兴岛", "registration", "", "isp", "",
     112.3350, 16.8340, "wgs84"),
    ("OP08", "IDC-1", "Haikou rented hall", "海南省海口市美兰区", "idc", "rented", "", "",
     110.3500, 20.0200, "wgs84"),
    # Orphan Holdings: facilities filed without any registration row.
    ("OP09", "IDC-1", "Pudong hall", "上海市浦东新区世纪大道", "idc", "owned", "", "",
     121.5300, 31.2300, "wgs84"),
    # Twin Registrations: registration rows in Beijing and in Shanghai.
    ("OP10", "REG-BJ", "Twin Registrations Co. (Beijing)", "北京市东城区", "registration", "", "idc", "",
     116.4170, 39.9290, "wgs84"),
    ("OP10", "REG-SH", "Twin Registrations Co. (Shanghai)", "上海市浦东新区", "registration", "", "idc", "",
     121.5440, 31.2210, "wgs84"),
    ("OP10", "IDC-1", "Yizhuang rack", "北京市大兴区亦庄", "idc", "rented", "", "",
     116.5000, 39.7900, "wgs84"),
    # Harbour Access: an ISP that says its access does not go through a basic carrier's equipment.
    ("OP11", "REG", "Harbour Access ISP Co.", "上海市浦东新区外高桥", "registration", "", "isp", "",
     121.5900, 31.3500, "wgs84"),
    ("OP11", "ISP-1", "Waigaoqiao access point", "上海市浦东新区外高桥保税区", "isp", "owned", "", "no",
     121.5950, 31.3400, "wgs84"),
    # Sloppy Filings: a row with its longitude and latitude swapped, one without coordinates.
    ("OP12", "REG", "Sloppy Filings Co.", "深圳市龙岗区", "registration", "", "idc", "",
     114.2470, 22.7200, "wgs84"),
    ("OP12", "IDC-1", "Longgang hall (lon/lat swapped)", "深圳市龙岗区坂田", "idc", "owned", "", "",
     22.6400, 114.0700, "wgs84"),
    ("OP12", "IDC-2", "Pingshan hall (no coordinates)", "深圳市坪山区", "idc", "owned", "", "",
     None, None, "wgs84"),
    # Borderline Holdings: registered beside the Shenzhen River, too close to the border to be sure
    # it is in Shenzhen, so its Futian data center's verdict hangs on it.
    ("OP13", "REG", "Borderline Holdings Co.", "深圳市福田区福田保税区", "registration", "", "idc", "",
     114.0676, 22.5182, "wgs84"),
    ("OP13", "IDC-1", "Futian data center", "深圳市福田区深南大道", "idc", "owned", "", "",
     114.0550, 22.5410, "wgs84"),
]


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for *fields, lon, lat, crs in ROWS:
            if lon is None or fields[1] == "IDC-1" and fields[0] == "OP12":
                x, y = ("", "") if lon is None else (lon, lat)  # filed as given: missing, or swapped
            else:
                gx, gy = from_wgs84([lon], [lat], crs)
                x, y = f"{gx[0]:.6f}", f"{gy[0]:.6f}"
            writer.writerow([*fields, x, y, crs])
    print(f"wrote {len(ROWS)} rows to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
