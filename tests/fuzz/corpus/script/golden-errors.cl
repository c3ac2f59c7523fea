# exit: 1
# args: --keep-going
# Every malformed line is refused with a message naming what and where; with --keep-going the run goes
# on and still exits 1. None of these lines reaches the engine (stderr is compared with errors.err).
# then: show A1
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
staff R1 role=receiver
staff D1 role=dispatcher
category component 0101 name="上水井盖" limit=4wh
route component 0101 WATER
report A1 kind=component category=0101 source=hotline by=R1   # a new database has no clock yet
advance 2h
at 2025-03-31T10:00
report A1 kind=component category=0101 source=hotline by=R1
dispach A1 by=D1
frobnicate A1
dispatch A1 unt=WATER by=D1
dispatch A1 unit=WATER by=D1 by=D2
accept A1
accept by=WATER
accept A1 A2 by=WATER
report A2 kind=event category=0101 source=hotline desc="unterminated by=R1
report A2 kind=thing category=0101 source=hotline by=R1
report A2 kind=event category=0101 source=pigeon by=R1
report A2 kind=event category=0101 source=hotline emergency=yes by=R1
report A2 kind=event category=0101 source=hotline lat=36.1 by=R1
reject A1 reason= by=R1
at 2025-03-31T09:00
dispatch A1 by=D1 at=2025-03-30T10:00
dispatch A1 limit=10x by=D1
verify A1 result=maybe by=I1
rates from=2025-03-01
rates from=2025-04-01 to=2025-03-01
expect A1
expect A1 colour=red
unit WATER =x
staff X role=boss
weights handling=lots
policy enforce_permissions=maybe
by=D1 dispatch A1
