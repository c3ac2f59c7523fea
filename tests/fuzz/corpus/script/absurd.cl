at 9999-12-31T23:59
report Z1 kind=component category=0101 source=inspector by=I1 at=1969-12-31T23:59
at 1970-01-01T00:00Z
report Z2 kind=component category=0101 source=inspector by=I1
register Z2 by=L1
dispatch Z2 by=D1 limit=3650d
advance 3650d
at 9999-12-31T23:59:59.999999Z
show Z2 at=0000-01-01
calendar tz=+14:00 workdays=sun periods=00:00-00:01
calendar tz=-14:01 periods=23:59-24:00
holiday 9999-12-31
workday 1970-01-01
category event 9999 limit=999999999wd
