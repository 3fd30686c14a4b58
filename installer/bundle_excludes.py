"""What the frozen app leaves out, shared by the PyInstaller spec and tests/installer.

A module here is missing from the bundle, so importing it there fails; tests/installer runs the
app with these imports blocked and fails if any of them is imported at run time.
"""

# Qt modules the app does not use (it uses QtCore, QtGui, QtWidgets and QtSvg; QtTest is for
# the test suite only). Each drags in its Qt libraries and plugins.
QT_MODULES = tuple(
    f"PySide6.{name}"
    for name in (
        "Qt3DAnimation",
        "Qt3DCore",
        "Qt3DExtras",
        "Qt3DInput",
        "Qt3DLogic",
        "Qt3DRender",
        "QtBluetooth",
        "QtCharts",
        "QtConcurrent",
        "QtDBus",
        "QtDataVisualization",
        "QtDesigner",
        "QtGraphs",
        "QtHelp",
        "QtHttpServer",
        "QtLocation",
        "QtMultimedia",
        "QtMultimediaWidgets",
        "QtNetwork",
        "QtNetworkAuth",
        "QtNfc",
        "QtOpenGL",
        "QtOpenGLWidgets",
        "QtPdf",
        "QtPdfWidgets",
        "QtPositioning",
        "QtPrintSupport",
        "QtQml",
        "QtQuick",
        "QtQuick3D",
        "QtQuickControls2",
        "QtQuickTest",
        "QtQuickWidgets",
        "QtRemoteObjects",
        "QtScxml",
        "QtSensors",
        "QtSerialBus",
        "QtSerialPort",
        "QtSpatialAudio",
        "QtSql",
        "QtStateMachine",
        "QtSvgWidgets",
        "QtTest",
        "QtTextToSpeech",
        "QtUiTools",
        "QtWebChannel",
        "QtWebEngineCore",
        "QtWebEngineQuick",
        "QtWebEngineWidgets",
        "QtWebSockets",
        "QtXml",
    )
)

# Python packages that are installed for development, or optional extras of a dependency that
# the app never reaches (litellm's AWS providers). Not litellm.proxy: a chat completion
# imports parts of it (tests/installer caught that).
PYTHON_MODULES = (
    "tkinter",
    "_tkinter",
    "IPython",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "schemathesis",
    "importlinter",
    "grimp",
    "PyInstaller",
    "boto3",
    "botocore",
    "s3transfer",
)

# matplotlib draws the report's charts with Agg and SVG only (app/funnel/report_charts.py): its
# GUI, notebook, web and other file backends, and its test helpers, are never reached.
MATPLOTLIB_PARTS = tuple(
    f"matplotlib.{name}"
    for name in (
        "backends._backend_gtk",
        "backends._backend_tk",
        "backends.backend_cairo",
        "backends.backend_gtk3",
        "backends.backend_gtk3agg",
        "backends.backend_gtk3cairo",
        "backends.backend_gtk4",
        "backends.backend_gtk4agg",
        "backends.backend_gtk4cairo",
        "backends.backend_macosx",
        "backends.backend_nbagg",
        "backends.backend_pdf",
        "backends.backend_pgf",
        "backends.backend_ps",
        "backends.backend_qt",
        "backends.backend_qt5",
        "backends.backend_qt5agg",
        "backends.backend_qt5cairo",
        "backends.backend_qtagg",
        "backends.backend_qtcairo",
        "backends.backend_template",
        "backends.backend_tkagg",
        "backends.backend_tkcairo",
        "backends.backend_webagg",
        "backends.backend_webagg_core",
        "backends.backend_wx",
        "backends.backend_wxagg",
        "backends.backend_wxcairo",
        "backends.qt_compat",
        "backends.qt_editor",
        "backends.web_backend",
        "pylab",
        "pyplot",
        "testing",
        "tests",
    )
)

EXCLUDED_MODULES = QT_MODULES + PYTHON_MODULES + MATPLOTLIB_PARTS

# Qt plugin folders the app does not need, relative to PySide6/Qt/plugins (the app draws plain
# widgets on X11, Wayland, macOS or Windows, and reads SVG, PNG, JPEG, GIF and ICO).
QT_PLUGIN_DIRS_UNUSED = (
    "egldeviceintegrations",
    "generic",
    "networkinformation",
    "platforminputcontexts/libqtvirtualkeyboardplugin.so",
    # GTK3 theme: would bundle this machine's GTK, which then clashes with the user's themes.
    "platformthemes/libqgtk3.so",
    "qmltooling",
    "sqldrivers",
    "tls",
)
QT_PLATFORMS_KEPT = ("xcb", "wayland", "offscreen", "minimal", "cocoa", "windows")
