"""Import and export with the formats experts already use: Harbor / Terminal-Bench task folders
and Prime Intellect `verifiers` environments, and export to Inspect AI tasks (docs/engineering.md,
"Import and export").

Exports ship Gauntlet Studio's own graders (`GraderRuntime`) so a converted environment grades
exactly as the funnel does; imports only accept what maps without guessing, and otherwise stop
with an error that names the task and the reason. Output is written all at once or not at all.
"""

from app.envpack.interop.harbor_export import export_harbor
from app.envpack.interop.harbor_import import import_harbor
from app.envpack.interop.inspect_export import export_inspect
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.interop.verifiers_export import export_verifiers
from app.envpack.interop.verifiers_import import import_verifiers

FORMATS = ("harbor", "verifiers")

__all__ = [
    "FORMATS",
    "GraderRuntime",
    "export_harbor",
    "export_inspect",
    "export_verifiers",
    "import_harbor",
    "import_verifiers",
]
