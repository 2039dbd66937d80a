"""A realistic, deterministic month of a 4S store's after-sales paperwork, for demos and benchmarks.

Generation and loading are separate. :func:`generate` turns a :class:`DemoSpec` into a
:class:`DemoPlan`, purely (``random.Random(spec.seed)``, no clock, no storage): the staff to
register and every filing, signature, scan, amendment, void and submission, sorted by simulated
time. :func:`load` applies a plan to an archive through ``archive.commands``, the one write path,
with the archive's clock set to each operation's simulated moment. A benchmark that needs more
work orders than a month file takes :func:`work_order_rows` (raw DMS rows for
``commands.file_batch``) after :func:`register_staff`.

    from archive.demo import DemoSpec, generate, load
    summary = load(archive, generate(DemoSpec(month="2026-10")))

Modules: ``vocab`` (Chinese names, cars, faults, what customers say), ``people`` (staff,
customers, VINs, plates), ``desk`` (working days and hours), ``visits`` (work orders),
``paper`` (one document's life), ``paperwork`` (most kinds), ``callbacks`` (callbacks and
quick-handling forms), ``corrections`` (amendments), ``ops``, ``plan``, ``load``, ``media``
(signature PNG, scan PDF).
"""

from archive.demo.desk import last_complete_month
from archive.demo.load import (
    DEMO_PASSWORD,
    DemoSummary,
    load,
    register_staff,
    set_demo_passwords,
)
from archive.demo.people import STAFF, StaffMember
from archive.demo.plan import DemoPlan, DemoSpec, PlanFacts, generate
from archive.demo.visits import work_order_rows

__all__ = [
    "DEMO_PASSWORD",
    "STAFF",
    "DemoPlan",
    "DemoSpec",
    "DemoSummary",
    "PlanFacts",
    "StaffMember",
    "generate",
    "last_complete_month",
    "load",
    "register_staff",
    "set_demo_passwords",
    "work_order_rows",
]
