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
    "matplotlib",
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

EXCLUDED_MODULES = QT_MODULES + PYTHON_MODULES

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
