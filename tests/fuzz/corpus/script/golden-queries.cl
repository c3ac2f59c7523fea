# Every query of the language, in a script and from the command line (# then:), on one small history:
# a closed case, a case handled late after rework, an overdue open one and a rejected report.
# Top-level queries without at= evaluate at the latest recorded instant, so they answer the same way
# every time; usage errors exit 2, refused queries exit 1.
# then: show A1
# then: show A3 at=2025-04-04T12:00
# then: overdue
# then: overdue at=2025-04-04T15:00
# then: workload
# then: rates from=2025-03-31 to=2025-04-07
# then: inspectors from=2025-03-31 to=2025-04-07
# then: centre from=2025-03-31 to=2025-04-07
# then: history A2
# then: show NOPE
# then: show
# then: rates from=2025-03-31
# then: rates from=yesterday to=2025-04-07
# then: show A1 colour=red
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
unit STREET name="西园街道"
inspector I1 grid=620102
staff R1 role=receiver
staff L1 role=shift_leader
staff D1 role=dispatcher
category component 0101 name="上水井盖" limit=4wh
category event 0102 name="暴露垃圾" limit=1wd
route component 0101 WATER
route event 0102 STREET

at 2025-03-31T10:10
report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1
register A1 by=L1 at=2025-03-31T10:20
dispatch A1 by=D1 at=2025-03-31T10:30
accept A1 by=WATER at=2025-03-31T10:40
feedback A1 note="cover replaced" by=WATER at=2025-03-31T14:40
verify A1 result=pass by=I1 at=2025-03-31T15:10
show A1

report A2 kind=event category=0102 source=inspector grid=620102001001002 by=I1 at=2025-04-01T15:40
register A2 by=L1 at=2025-04-01T15:50
dispatch A2 by=D1 at=2025-04-01T16:00
accept A2 by=STREET at=2025-04-01T16:10
feedback A2 note="swept" by=STREET at=2025-04-02T11:05
verify A2 result=fail note="garbage still there" by=I1 at=2025-04-02T11:40
accept A2 by=STREET at=2025-04-03T11:45
feedback A2 note="swept again" by=STREET at=2025-04-03T12:10
verify A2 result=pass by=I1 at=2025-04-03T13:30
show A2

report A3 kind=event category=0102 source=hotline by=R1 at=2025-04-03T14:00
register A3 by=L1 at=2025-04-03T14:05
dispatch A3 by=D1 at=2025-04-03T14:10
show A3 at=2025-04-04T12:00
report A4 kind=event category=0102 source=citizen address="Yellow River \"Iron\" Bridge" by=R1
reject A4 reason="outside the district" by=R1

advance 2wd
show A3
show A4
overdue
workload
rates from=2025-03-31 to=2025-04-07
rates from=2025-03-31 to=2025-04-07 unit=STREET at=2025-04-02T12:00
inspectors from=2025-03-31 to=2025-04-07
centre from=2025-03-31 to=2025-04-07
history A1
