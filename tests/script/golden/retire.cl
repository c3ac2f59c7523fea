# exit: 1
# args: --keep-going
# Configuration that changes over the years (issue 23): on 2025-04-01 WATER is merged away (retired),
# STREET renamed, an inspector and a dispatcher leave, a category is retired and routes change. Every
# change affects only later commands: March keeps its cases and its ranking; commands naming what was
# retired are refused with when; WATER's open task is listed for re-dispatch and dispatched elsewhere.
# then: rates from=2025-03-01 to=2025-04-01
# then: rates from=2025-05-01 to=2025-06-01
# then: workload
# then: redispatch
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
unit PARKS name="园林局"
unit STREET name="街道办"
inspector I1 grid=620102
inspector I2 grid=620102
staff L1 role=shift_leader
staff D1 role=dispatcher
staff D2 role=dispatcher
category event 0102 name="暴露垃圾" limit=1wd
category event 0103 name="积存垃圾渣土" limit=1wd
route event 0102 WATER
route event 0103 STREET
at 2025-03-03T09:00
report A1 kind=event category=0102 source=inspector grid=620102001001001 by=I1
register A1 by=L1
dispatch A1 by=D1
accept A1 by=WATER
feedback A1 by=WATER
verify A1 result=pass by=I1
report A2 kind=event category=0102 source=inspector grid=620102001001001 by=I1
register A2 by=L1
dispatch A2 by=D2
accept A2 by=WATER
report A3 kind=event category=0103 source=inspector grid=620102001001001 by=I1
register A3 by=L1
dispatch A3 by=D1
expect A3 unit=STREET
at 2025-04-01T09:00
retire_unit WATER
rename_unit STREET name="城管街道办"
retire_inspector I1
retire_staff D2
# refused: what was retired
unit WATER name="水务局"
route event 0102 WATER
feedback A2 by=WATER
report B1 kind=event category=0102 source=inspector grid=620102001001001 by=I1
report B1 kind=event category=0102 source=inspector grid=620102001001001 by=I2
register B1 by=L1
dispatch B1 by=D2
dispatch B1 by=D1 unit=WATER
# routing never picks WATER: its rules went with it
dispatch B1 by=D1
expect B1 state=coordinating
dispatch B1 by=D1 unit=PARKS
expect B1 state=dispatched unit=PARKS
# a new route, then a replaced one; a removed one leaves the category to coordination
route event 0102 PARKS
report B2 kind=event category=0102 source=inspector grid=620102001001001 by=I2
register B2 by=L1
dispatch B2 by=D1
expect B2 unit=PARKS
replace_route event 0102 STREET
report B3 kind=event category=0102 source=inspector grid=620102001001001 by=I2
register B3 by=L1
dispatch B3 by=D1
expect B3 unit=STREET
remove_route event 0102 STREET
remove_route event 0102 STREET
report B4 kind=event category=0102 source=inspector grid=620102001001001 by=I2
register B4 by=L1
dispatch B4 by=D1
expect B4 state=coordinating
# a new time limit for later dispatches (B5: 2 working days, from Tuesday 09:00 to Wednesday 17:00)
category event 0102 name="暴露垃圾" limit=2wd
report B5 kind=event category=0102 source=inspector grid=620102001001001 by=I2
register B5 by=L1
dispatch B5 by=D1 unit=PARKS
expect B5 deadline=2025-04-02T17:00:00+08:00
# the retired category: no new report; its cases go on
retire_category event 0103
report B6 kind=event category=0103 source=inspector grid=620102001001001 by=I2
accept A3 by=STREET
# WATER's open task: listed, given back by a dispatcher, dispatched to PARKS
redispatch
return A2 by=D1 reason="WATER merged into PARKS"
approve A2 by=D1
dispatch A2 by=D1 unit=PARKS
expect A2 state=dispatched unit=PARKS
redispatch
