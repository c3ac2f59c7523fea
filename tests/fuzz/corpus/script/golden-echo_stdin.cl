# stdin
# args: --echo
# The script comes on stdin (run -); --echo prints "ok N" once line N is done and durable.
# Blank lines and comments are not acknowledged.
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
inspector I1 grid=620102
staff L1 role=shift_leader
staff D1 role=dispatcher
category component 0101 name="上水井盖" limit=4wh
route component 0101 WATER

at 2025-03-31T10:10
report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1
register A1 by=L1 at=2025-03-31T10:20
dispatch A1 by=D1 at=2025-03-31T10:30
show A1
