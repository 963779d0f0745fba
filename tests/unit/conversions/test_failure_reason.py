import json

from melody.conversions.steps import failure_reason


def lambda_cause(error_type: str, message: str) -> str:
    return json.dumps({"errorMessage": message, "errorType": error_type})


def test_bad_audio_keeps_its_stable_code_and_message():
    error = {"Error": "AudioRejected", "Cause": lambda_cause("AudioRejected", "corrupt_audio: the media file is truncated or damaged")}
    assert failure_reason(error) == ("corrupt_audio", "the media file is truncated or damaged")


def test_internal_errors_are_not_leaked():
    error = {"Error": "KeyError", "Cause": lambda_cause("KeyError", "'secret_internal_field'")}
    code, message = failure_reason(error)
    assert code == "processing_failed" and "secret" not in message


def test_timeouts_and_garbage():
    assert failure_reason({"Error": "States.Timeout", "Cause": ""})[0] == "timeout"
    assert failure_reason({})[0] == "processing_failed"
    assert failure_reason({"Error": "AudioRejected", "Cause": "not json"})[0] == "processing_failed"
