"""Why a unit stopped, as `up` and `status` say it: the log line reporting the error, not the shutdown chatter a
server logs after it (MLServer logs a dozen lines of pool shutdown after a model fails to load)."""

from __future__ import annotations

from seldon_graph.operator.local.process import failure_line

MLSERVER_TAIL = """\
2026-11-30 07:15:34,029 [mlserver.parallel] ERROR - An error occurred processing a model update of type 'Load'.
Traceback (most recent call last):
  File "/env/lib/python3.11/site-packages/mlserver/parallel/worker.py", line 158, in _process_model_update
mlserver.parallel.errors.WorkerError: builtins.IsADirectoryError: [Errno 21] Is a directory: '/models/x'
INFO:     127.0.0.1:38716 - "GET /v2/models/classifier/ready HTTP/1.1" 404 Not Found
2026-11-30 07:15:34,586 [mlserver.parallel] INFO - Shutdown of default inference pool complete
INFO:     Finished server process [6631]

"""


def test_the_last_error_line_wins_over_later_shutdown_lines(tmp_path):
    log = tmp_path / "unit.log"
    log.write_text(MLSERVER_TAIL)
    assert failure_line(log) == (
        "mlserver.parallel.errors.WorkerError: builtins.IsADirectoryError: [Errno 21] Is a directory: '/models/x'"
    )


def test_without_an_error_line_the_last_line_is_the_reason(tmp_path):
    log = tmp_path / "unit.log"
    log.write_text("starting\nserving on 9000\nstopped by SIGTERM\n\n")
    assert failure_line(log) == "stopped by SIGTERM"


def test_a_missing_or_empty_log_gives_no_reason(tmp_path):
    assert failure_line(tmp_path / "absent.log") == ""
    (tmp_path / "empty.log").write_text("")
    assert failure_line(tmp_path / "empty.log") == ""


def test_a_traceback_ends_in_its_exception_line_whatever_the_exception_is_named(tmp_path):
    log = tmp_path / "unit.log"
    log.write_text(
        "Traceback (most recent call last):\n"
        '  File "model_folder.py", line 31, in model_file\n'
        '    raise ModelFileMissing(f"no {names} in the model folder {folder}")\n'
        "servers.model_folder.ModelFileMissing: no model.joblib in the model folder /m\n"
        "INFO: worker stopped\n"
    )
    assert failure_line(log) == "servers.model_folder.ModelFileMissing: no model.joblib in the model folder /m"
