# Queueserver startup for fibsem-ophyd: the RE manager's worker gets the session's
# RunEngine (store, progress lines, halt safety), the microscope and every plan —
# bound to the microscope, so a queued plan names only its own parameters.
# Started by `fibsem-ophyd queueserver`; the configuration file comes from
# FIBSEM_OPHYD_CONFIG, the store folder from FIBSEM_OPHYD_DATA.
import atexit
import multiprocessing.util
import os

import plans
import profiles.remote.plans
from profiles.remote.bound import bound_plans, catalogue_plans
from profiles.remote.documents import DocumentPublisher
from profiles.remote.functions import RemoteFunctions
from profiles.session import start_session

# The worker runs plans with `RE(plan)` and reports the run uids itself.
session = start_session(os.environ.get("FIBSEM_OPHYD_CONFIG") or None, call_returns_result=False)
# The worker is a multiprocessing child: it runs these finalizers, not atexit, when
# the environment closes; the store's tiled server is given back then.
multiprocessing.util.Finalize(None, session.close, exitpriority=10)
atexit.register(session.close)
RE = session.RE
microscope = session.microscope
every_plan = {name: getattr(plans, name) for name in plans.__all__}
# autolamella / mill_lamella with JSON parameters (site names, method, folder)
remote_plans = {n: getattr(profiles.remote.plans, n) for n in ("autolamella", "mill_lamella")}
# Documents, live, for remote clients (the napari widgets); `document_address` says where.
publisher = DocumentPublisher()
RE.subscribe(publisher)
multiprocessing.util.Finalize(None, publisher.close, exitpriority=5)
functions = RemoteFunctions(microscope, documents=publisher.address)
globals().update(bound_plans([every_plan, remote_plans], microscope))
# The napari widgets' catalogue by name (JSON forms win over plans of the same name).
globals().update(catalogue_plans(microscope, functions.results))
globals().update(functions.namespace())
del every_plan, remote_plans
