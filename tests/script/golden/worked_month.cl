# The worked month of domain.md §7: one unit, 20 dispatches in May 2025.
# 2 returned with approval and 1 still suspended leave due = 17: 14 on time, 2 late, 1 overdue and open;
# 2 of the handled were reworked; 1 was extended. Expected: handled 16, handling_rate 16/17, on_time_rate
# 14/17, rework_rate 2/16, overdue_open_rate 1/17, extension_rate 1/17, score 90.44 (grade A).
# Limits are 48 natural hours so every deadline is dispatch + 2 days.
# then: rates from=2025-05-01 to=2025-06-01
# then: rates from=2025-05-01 to=2025-06-01 unit=WATER at=2025-06-01
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
inspector I1 grid=620102
staff L1 role=shift_leader
staff D1 role=dispatcher
staff S1 role=supervisor
category event 0102 name="暴露垃圾" limit=48h
route event 0102 WATER

# Each command carries its own time (at=), which also moves the script clock.
report C01 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-01T09:00
register C01 by=L1 at=2025-05-01T09:10
dispatch C01 by=D1 at=2025-05-01T10:00
accept C01 by=WATER at=2025-05-01T10:30
feedback C01 note="done" by=WATER at=2025-05-01T15:00
verify C01 result=pass by=I1 at=2025-05-01T16:00
report C02 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-02T09:00
register C02 by=L1 at=2025-05-02T09:10
dispatch C02 by=D1 at=2025-05-02T10:00
accept C02 by=WATER at=2025-05-02T10:30
feedback C02 note="done" by=WATER at=2025-05-02T15:00
verify C02 result=pass by=I1 at=2025-05-02T16:00
report C03 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-03T09:00
register C03 by=L1 at=2025-05-03T09:10
dispatch C03 by=D1 at=2025-05-03T10:00
accept C03 by=WATER at=2025-05-03T10:30
feedback C03 note="done" by=WATER at=2025-05-03T15:00
verify C03 result=pass by=I1 at=2025-05-03T16:00
report C04 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-04T09:00
register C04 by=L1 at=2025-05-04T09:10
dispatch C04 by=D1 at=2025-05-04T10:00
accept C04 by=WATER at=2025-05-04T10:30
feedback C04 note="done" by=WATER at=2025-05-04T15:00
verify C04 result=pass by=I1 at=2025-05-04T16:00
report C05 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-05T09:00
register C05 by=L1 at=2025-05-05T09:10
dispatch C05 by=D1 at=2025-05-05T10:00
accept C05 by=WATER at=2025-05-05T10:30
feedback C05 note="done" by=WATER at=2025-05-05T15:00
verify C05 result=pass by=I1 at=2025-05-05T16:00
report C06 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-06T09:00
register C06 by=L1 at=2025-05-06T09:10
dispatch C06 by=D1 at=2025-05-06T10:00
accept C06 by=WATER at=2025-05-06T10:30
feedback C06 note="done" by=WATER at=2025-05-06T15:00
verify C06 result=pass by=I1 at=2025-05-06T16:00
report C07 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-07T09:00
register C07 by=L1 at=2025-05-07T09:10
dispatch C07 by=D1 at=2025-05-07T10:00
accept C07 by=WATER at=2025-05-07T10:30
feedback C07 note="done" by=WATER at=2025-05-07T15:00
verify C07 result=pass by=I1 at=2025-05-07T16:00
report C08 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-08T09:00
register C08 by=L1 at=2025-05-08T09:10
dispatch C08 by=D1 at=2025-05-08T10:00
accept C08 by=WATER at=2025-05-08T10:30
feedback C08 note="done" by=WATER at=2025-05-08T15:00
verify C08 result=pass by=I1 at=2025-05-08T16:00
report C09 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-09T09:00
register C09 by=L1 at=2025-05-09T09:10
dispatch C09 by=D1 at=2025-05-09T10:00
accept C09 by=WATER at=2025-05-09T10:30
feedback C09 note="done" by=WATER at=2025-05-09T15:00
verify C09 result=pass by=I1 at=2025-05-09T16:00
report C10 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-10T09:00
register C10 by=L1 at=2025-05-10T09:10
dispatch C10 by=D1 at=2025-05-10T10:00
accept C10 by=WATER at=2025-05-10T10:30
feedback C10 note="done" by=WATER at=2025-05-10T15:00
verify C10 result=pass by=I1 at=2025-05-10T16:00
report C11 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-11T09:00
register C11 by=L1 at=2025-05-11T09:10
dispatch C11 by=D1 at=2025-05-11T10:00
accept C11 by=WATER at=2025-05-11T10:30
feedback C11 note="done" by=WATER at=2025-05-11T15:00
verify C11 result=pass by=I1 at=2025-05-11T16:00
report C12 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-12T09:00
register C12 by=L1 at=2025-05-12T09:10
dispatch C12 by=D1 at=2025-05-12T10:00
accept C12 by=WATER at=2025-05-12T10:30
feedback C12 note="done" by=WATER at=2025-05-12T15:00
verify C12 result=fail note="not fixed" by=I1 at=2025-05-12T16:00
report C13 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-13T09:00
register C13 by=L1 at=2025-05-13T09:10
accept C12 by=WATER at=2025-05-13T09:30
dispatch C13 by=D1 at=2025-05-13T10:00
accept C13 by=WATER at=2025-05-13T10:30
feedback C12 note="fixed properly" by=WATER at=2025-05-13T11:00
verify C12 result=pass by=I1 at=2025-05-13T14:00
feedback C13 note="done" by=WATER at=2025-05-13T15:00
verify C13 result=fail note="not fixed" by=I1 at=2025-05-13T16:00
report C14 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-14T09:00
register C14 by=L1 at=2025-05-14T09:10
accept C13 by=WATER at=2025-05-14T09:30
dispatch C14 by=D1 at=2025-05-14T10:00
accept C14 by=WATER at=2025-05-14T10:30
feedback C13 note="fixed properly" by=WATER at=2025-05-14T11:00
verify C13 result=pass by=I1 at=2025-05-14T14:00
extend C14 limit=24h reason="parts on order" by=WATER at=2025-05-15T09:00
report C15 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-15T09:00
register C15 by=L1 at=2025-05-15T09:10
approve C14 by=D1 at=2025-05-15T09:30
dispatch C15 by=D1 at=2025-05-15T10:00
accept C15 by=WATER at=2025-05-15T10:30
report C16 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-16T09:00
register C16 by=L1 at=2025-05-16T09:10
dispatch C16 by=D1 at=2025-05-16T10:00
accept C16 by=WATER at=2025-05-16T10:30
feedback C14 note="done after the extension" by=WATER at=2025-05-16T15:00
verify C14 result=pass by=I1 at=2025-05-16T16:00
report C17 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-17T09:00
register C17 by=L1 at=2025-05-17T09:10
dispatch C17 by=D1 at=2025-05-17T10:00
accept C17 by=WATER at=2025-05-17T10:30
report C18 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-18T09:00
register C18 by=L1 at=2025-05-18T09:10
dispatch C18 by=D1 at=2025-05-18T10:00
accept C18 by=WATER at=2025-05-18T10:30
feedback C15 note="late" by=WATER at=2025-05-18T11:00
suspend C18 reason="waiting for the road closure" by=WATER at=2025-05-18T11:00
approve C18 by=D1 at=2025-05-18T11:30
verify C15 result=pass by=I1 at=2025-05-18T14:00
report C19 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-19T09:00
register C19 by=L1 at=2025-05-19T09:10
dispatch C19 by=D1 at=2025-05-19T10:00
return C19 reason="not our pipe" by=WATER at=2025-05-19T10:30
feedback C16 note="late" by=WATER at=2025-05-19T11:00
approve C19 by=D1 at=2025-05-19T11:00
verify C16 result=pass by=I1 at=2025-05-19T14:00
report C20 kind=event category=0102 source=inspector grid=620102001001001 by=I1 at=2025-05-20T09:00
register C20 by=L1 at=2025-05-20T09:10
dispatch C20 by=D1 at=2025-05-20T10:00
return C20 reason="not our pipe" by=WATER at=2025-05-20T10:30
approve C20 by=D1 at=2025-05-20T11:00

# The returned cases wait in the centre; the suspended one stays out of every figure.
expect C19 state=registered unit=null
expect C18 state=suspended deadline=null
expect C17 state=handling overdue=true
expect C14 state=closed extensions=1 on_time=true
expect C12 state=closed reworks=1 on_time=true
expect C15 state=closed on_time=false

at 2025-05-28T12:00
supervise C17 note="still open after nine days" by=S1
rates from=2025-05-01 to=2025-06-01
inspectors from=2025-05-01 to=2025-06-01
centre from=2025-05-01 to=2025-06-01
overdue
