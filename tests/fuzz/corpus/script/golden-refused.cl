# exit: 1
# A command the engine refuses stops the script with the engine's message: the lines before it are
# kept (each was durable when acknowledged), the lines after it never run.
# then: show A1
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
inspector I1 grid=620102
staff L1 role=shift_leader
category component 0101 name="上水井盖" limit=4wh
route component 0101 WATER
at 2025-03-31T10:00
report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1
accept A1 by=WATER
register A1 by=L1
