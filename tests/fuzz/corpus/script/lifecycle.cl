report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1 address="No. 5 \"West\" Road" desc="井盖缺失" lat=36.05 lon=103.8
register A1 by=L1 at=2025-03-31T10:20
dispatch A1 by=D1 at=2025-03-31T10:30
expect A1 state=dispatched unit=WATER deadline=2025-03-31T15:30:00+08:00 light=green
accept A1 by=WATER
extend A1 by=WATER limit=1wd reason="parts"
approve A1 by=D1
suspend A1 by=WATER reason="owner away"
approve A1 by=D1
advance 2wd
resume A1 by=D1
supervise A1 by=S1 note="faster"
feedback A1 by=WATER note="fixed"
verify A1 by=I1 result=fail note="still open"
accept A1 by=WATER
feedback A1 by=WATER
verify A1 by=I1 result=pass
show A1
history A1
report A2 kind=event category=0102 source=hotline grid=620102001002003 by=R1 emergency
register A2 by=L1
dispatch A2 by=D1
return A2 by=ST1 reason="not ours"
deny A2 by=D1 reason="it is"
advance 3d
overdue
workload
report A3 kind=event category=0102 source=citizen by=R1
merge A3 into=A2 by=R1
report A4 kind=event category=0102 source=video by=R1
reject A4 by=R1 reason="not public space"
report A5 kind=component category=0101 source=inspector by=I1
void A5 by=L1 reason="entered twice"
rates from=2025-03-01 to=2025-05-01
inspectors from=2025-03-01 to=2025-05-01
centre from=2025-03-01 to=2025-05-01 at=2025-04-15T00:00
policy auto_supervise=2wh yellow_percent=50
weights handling=50 on_time=50 rework=0 overdue=0 extension=0
at 2025-06-01T00:00
