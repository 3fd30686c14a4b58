"""Names vulture cannot see being used (run: see [tool.vulture] in pyproject.toml).

Each entry is used by a framework, by the standard library, or only by tests and benchmarks
(vulture scans app/ and installer/ alone). FastAPI route functions are skipped through
`ignore_decorators`, not listed here.
"""

_ = object()  # vulture only needs the names below to appear; this file is never run

# Qt virtual overrides, called by Qt itself
_.mouseReleaseEvent  # app/editor/gutter.py
_.headerData  # QAbstractItemModel: bounties/table_model.py, workspace/task_table_model.py
_.mergeWith  # QUndoCommand: workspace/manifest_form.py
_.updateEditorGeometry  # QStyledItemDelegate: workspace/task_table_delegate.py

# Standard library protocols and settings
_.readable  # io.RawIOBase: app/envpack/bundle.py's bounded reader
_.readinto  # io.RawIOBase, same reader
_.mtime  # tarfile.TarInfo fields set for deterministic bundles (app/envpack/bundle.py)
_.uid
_.gid
_.uname
_.gname
_.tempdir  # tempfile.tempdir, set in the sandbox runner for each grading
_.row_factory  # sqlite3.Connection (app/sync/store/database.py)
_.isolation_level  # sqlite3 driver setting (app/platform/db.py)

# Third-party hooks
_.suppress_debug_info  # litellm module settings (app/llm.py)
_.telemetry
_.should_exit  # uvicorn.Server: how the embedded platform stops it (app/platform/embedded.py)
_._on_connect  # SQLAlchemy @event.listens_for (app/platform/db.py)
_._on_begin
_.impl  # SQLAlchemy TypeDecorator (app/platform/models.py)
_.cache_ok
_.process_bind_param
_.process_result_value
_.model_config  # pydantic (app/platform/schemas.py)
_._database  # FastAPI @app.exception_handler (app/platform/problems.py)
_._crash
_.down_revision  # alembic revision module attributes (app/platform/migrations/versions/)
_.branch_labels
_.depends_on
_.downgrade
_.load_environment  # verifiers entry point in the exported package (interop/assets)

# Data fields: columns, schema fields and dataclass fields read by name or serialised
_.network  # [sandbox] network in env.toml (app/envpack/model.py)
_.codes  # Check.codes, the finding codes a check owns
_.unavailable_hint  # RedTeamLog field, reported through the campaign's dict
_.uploaded_blobs  # SubmitContext counter, read in tests and benchmarks
_.last_digest  # Draft field, column of the drafts table
_.last_synced_at  # SyncState field shown in the status bar
_.finished_at  # Job column (app/platform/models.py)
_.max_score  # rubric criterion field (app/platform/schemas.py)
_.last_report  # FunnelPanel: the last finished report (tests/ui/screenshot_tour.py)

# Used only by tests and benchmarks, to observe state or set up fixtures
_.LOADER_CODES  # codes the loader emits; the checks test proves every code has an owner
_.by_category  # tests/attacks/test_attacks_library.py
_.diagnostic_ranges  # CodeEditor underline ranges (editor and workspace tests)
_.is_lexed  # highlighter progress (editor highlighting tests)
_.match_count  # find bar (editor tests)
_.index_at_line  # JsonlDocument (envpack editing tests)
_.default_image_present  # tests/support/services.py decides whether Docker tests can run
_.paginate  # sync client cursor pagination (tests/sync/test_sync_engine.py)
_.save_fallback_policy  # keychain fallback choice (tests/sync/test_sync_credentials.py)
_.recheck  # CredentialStore: probe the keychain again
_.aget  # CredentialStore async wrappers (tests/sync/test_sync_credentials.py)
_.aset
_.adelete
_.run_periodically  # background sync loop (tests/sync/test_sync_engine.py)
_.refresh_bounty  # conditional re-read of one bounty (tests/sync/test_sync_engine.py)
_.schema_version  # LocalStore (tests/sync/test_sync_store.py)
_.comments_for  # ReviewRepository read API (docs/sync.md), tests
_.child_pid  # FunnelJob (UI funnel tests)
_.relpaths  # workspace file tree (workspace tests)
_.field_widget  # manifest form (workspace tests)
_.field_error
_.open_tabs  # workspace view (workspace tests)
_.lint_now
_.is_linting
_.bulk_insert_bounties  # app/platform/demo.py: bench/sync.py and server tests
_.author_token  # EmbeddedPlatform (tests)
_.writelines  # app/frozen.py: the stand-in stdout/stderr of a windowed build is a file
_.EXCLUDED_MODULES  # installer/bundle_excludes.py: read by installer/gauntlet-studio.spec
_.QT_PLUGIN_DIRS_UNUSED  # likewise
_.QT_PLATFORMS_KEPT  # likewise
_.thread_form  # app/ui/review/review_page.py: the open new-thread dialog (tests fill it in)

# Found by verifiers through its @vf.reward tag (envpack/interop/assets/verifiers_env.py)
_.gauntlet
_.criteria_scores  # its @vf.metric twin (rubrics combined all-pass or threshold)

# EnvPack.agentic_task(id): lookup for the agentic stage-2 runner (not written yet)
_.agentic_task

# Read back by tests and by the trajectory viewer to come (app/attacks/trajectory.py)
_.load_trajectories
# Found by Inspect through @task; renamed on export (interop/assets/inspect_task.py)
_.__TASK_NAME__
_.openai  # ToolSchema.openai: the tool list a model is given (red team, exports)
_.decode_response  # app.envpack.trajectory: a grading response's turns (trajectory views)
# Found by verifiers 0.4 in a multi-turn export (interop/assets/verifiers_multiturn_*.py): the
# task's tool servers and @vf.stop, the tool server's hooks and its bare tool names
_.toolsets
_.max_turns_reached
_.setup_task
_.TOOL_PREFIX
_.__signature__
# What an imported verifiers reward reads of its trace (interop/assets/verifiers_import_trace.py)
_.tool_messages
_.num_turns
_.last_reply
_.last_message
_.call_reward
_.returns  # ast.FunctionDef.returns, cleared by the verifiers tool-environment import
# Stand-ins the verifiers import writes into grader.py (interop/assets/verifiers_criteria.py)
_.parse_answer
_._classic
