"""Issue 11: a B2B analysis without stems is analysis only, end to end.

The ASL's ``WantsStems`` choice (``separate`` false: AnalyseOnly → Persist, no separation, no melody),
the reuse rules by content hash (a job that wants stems never reuses a stem-less result; an
analysis-only job reuses any), Persist's stem-less result and the stems a later full run adds, the
job's reads (no stem links, ``stems_unavailable`` for the consumer routes), and the storage quota
(B2B analyses neither count nor are refused).
"""

from __future__ import annotations

import pytest

from melody.conversions.models import AudioResult, Job
from melody.conversions.service import pipeline_input
from melody.conversions.steps import reusable, wants_stems
from melody.core.errors import Conflict, InvalidInput
from melody_dev.workflow import StateMachine, load_definition
from tests.unit.conversions.test_job_service import FakeResults, make
from tests.unit.conversions.test_pipeline_steps import PROBED, make_steps, needs_ffmpeg, state
from tests.unit.workflow.test_audio_pipeline_asl import ANALYSIS, ASL, INPUT, STEMS, SUBSTITUTIONS, AudioError, Steps

HASH = "ab" * 32


def stemless(**kw) -> AudioResult:
    base = dict(result_key=f"{HASH}#dsp", content_hash=HASH, engine="dsp", engine_version="1", has_stems=False,
                waveform_key="analysis/h/waveform.json", analysis_key="analysis/h/dsp/analysis.json",
                analysis={"tempo": {"bpm": 120.0}}, created_at=1.0)  # fmt: skip
    return AudioResult(**{**base, **kw})


def with_stems(**kw) -> AudioResult:
    return stemless(has_stems=True, instrumental_key="stems/h/dsp/instrumental.m4a", vocals_key="stems/h/dsp/vocals.m4a", **kw)


# -- the state machine --------------------------------------------------------------------------------


def run_asl(steps: Steps, payload: dict):
    machine = StateMachine(load_definition(ASL, SUBSTITUTIONS), steps.resources(), name="audio-pipeline",
                           sleep=lambda _s: None, random=lambda: 0.5)  # fmt: skip
    return machine.execute(payload, name=payload["job_id"])


def test_separate_false_analyses_only_and_persists_without_stems():
    steps = Steps()
    ex = run_asl(steps, {**INPUT, "separate": False})
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    assert set(steps.calls) == {"probe", "analyse", "persist"}  # no separation, no melody
    assert steps.calls["persist"][0]["results"] == {"analysis": ANALYSIS}
    entered = [e.get("state") for e in ex.history if e["type"].endswith("StateEntered")]
    assert "AnalyseOnly" in entered and "Process" not in entered and "Melody" not in entered


@pytest.mark.parametrize("payload", [INPUT, {**INPUT, "separate": True}], ids=["no field (older inputs)", "true"])
def test_inputs_that_want_stems_separate_as_before(payload):
    steps = Steps()
    ex = run_asl(steps, payload)
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    assert {"separate", "analyse", "melody", "persist"} <= set(steps.calls)
    assert steps.calls["persist"][0]["results"] == {"stems": STEMS, "analysis": ANALYSIS}


def test_a_cached_result_is_reused_by_an_analysis_only_job_too():
    steps = Steps(cached=True)
    ex = run_asl(steps, {**INPUT, "separate": False})
    assert ex.status == "SUCCEEDED" and set(steps.calls) == {"probe", "reuse", "persist"}


def test_a_failing_analysis_only_step_marks_the_job_failed():
    steps = Steps(fail={"analyse": [AudioError("corrupt_audio: no")]})
    ex = run_asl(steps, {**INPUT, "separate": False})
    assert ex.status == "FAILED" and ex.error == "AudioError"
    assert len(steps.calls["mark_failed"]) == 1 and "persist" not in steps.calls


def test_analyse_only_is_wired_like_analyse():
    import json

    states = json.loads(ASL.read_text())["States"]
    analyse = states["Process"]["Branches"][1]["States"]["Analyse"]
    only = states["AnalyseOnly"]
    assert states["AlreadyProcessed"]["Default"] == "WantsStems" and states["WantsStems"]["Default"] == "Process"
    assert only["Parameters"] == analyse["Parameters"] and only["Retry"] == analyse["Retry"]
    assert only["ResultSelector"] == analyse["ResultSelector"] and only["ResultPath"] == "$.results"
    assert only["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}]
    assert only["Next"] == "Persist"


# -- reuse rules and the steps ---------------------------------------------------------------------------


def test_reuse_rules():
    assert wants_stems({}) and wants_stems({"separate": True}) and not wants_stems({"separate": False})
    assert reusable(with_stems(), wants_stems=True) and reusable(with_stems(), wants_stems=False)
    assert reusable(stemless(), wants_stems=False)
    assert not reusable(stemless(), wants_stems=True)  # it must separate, and then the result gains the stems
    assert not reusable(None, wants_stems=False)


@needs_ffmpeg
@pytest.mark.parametrize(("stored", "separate", "cached"), [
    (stemless, True, False), (stemless, False, True), (with_stems, True, True), (with_stems, False, True),
])  # fmt: skip
def test_probe_reuses_a_stemless_result_only_for_an_analysis_only_job(tmp_path, stored, separate, cached):
    from tests.support.songs import song_wav

    steps, _, _ = make_steps(tmp_path, song_wav(2, seed=8))
    steps._results.get = lambda key: stored(result_key=key)
    payload = state() if separate else state(separate=False)
    assert steps.probe(payload)["cached"] is cached


def test_reuse_of_a_stemless_result_gives_null_stems(tmp_path):
    steps, _, _ = make_steps(tmp_path)
    steps._results.get = lambda key: stemless()
    out = steps.reuse(state(separate=False, **PROBED))
    assert out["stems"] is None and out["analysis"]["analysis_key"] == "analysis/h/dsp/analysis.json"


class MemoryResults:
    def __init__(self, stored: AudioResult | None = None):
        self.stored = stored
        self.added: list[AudioResult] = []

    def get(self, result_key):
        return self.stored

    def put_if_absent(self, result):
        if self.stored is not None:
            return False
        self.stored = result
        return True

    def add_stems(self, result):
        self.added.append(result)
        if self.stored is None or self.stored.has_stems:
            return False
        self.stored = self.stored.model_copy(update={"has_stems": True, "instrumental_key": result.instrumental_key,
                                                     "vocals_key": result.vocals_key})  # fmt: skip
        return True


ANALYSED = {"analysis_key": "analysis/h/dsp/analysis.json", "waveform_key": "analysis/h/waveform.json",
            "analysis": {"tempo": {"bpm": 120.0}, "engine": {"name": "dsp", "version": "7"}}}  # fmt: skip
SEPARATED = {"instrumental_key": "stems/h/dsp/instrumental.m4a", "vocals_key": "stems/h/dsp/vocals.m4a",
             "extra_stem_keys": {}, "engine": "dsp", "engine_version": "7"}  # fmt: skip


def test_persist_after_analyse_only_stores_a_result_without_stems(tmp_path):
    steps, jobs, _ = make_steps(tmp_path)
    steps._results = results = MemoryResults()
    out = steps.persist(state(separate=False, results={"analysis": ANALYSED}, **PROBED))
    stored = results.stored
    assert stored is not None and not stored.has_stems and stored.stem_keys == {}
    assert (stored.instrumental_key, stored.vocals_key, stored.melody) == (None, None, None)
    assert (stored.engine, stored.engine_version) == ("dsp", "7")  # the engine the analysis names
    assert out["result_key"] == f"{HASH}#dsp" and jobs.changes[-1][1]["status"] == "succeeded"
    assert results.added == []


def test_persist_of_reused_null_stems_links_the_stemless_result(tmp_path):
    steps, jobs, _ = make_steps(tmp_path)
    steps._results = results = MemoryResults(stemless())
    steps.persist(state(separate=False, results={"stems": None, "analysis": ANALYSED}, **PROBED))
    assert results.stored == stemless() and results.added == []
    assert jobs.changes[-1][1]["result_key"] == f"{HASH}#dsp"


def test_a_full_run_on_a_hash_with_an_analysis_only_result_gives_it_the_stems(tmp_path):
    steps, _, _ = make_steps(tmp_path)
    steps._results = results = MemoryResults(stemless())
    steps.persist(state(results={"stems": SEPARATED, "analysis": ANALYSED}, **PROBED))
    assert len(results.added) == 1 and results.stored is not None and results.stored.has_stems
    assert results.stored.stem_keys == {"instrumental": SEPARATED["instrumental_key"], "vocals": SEPARATED["vocals_key"]}


def test_a_result_with_stems_names_them():
    with pytest.raises(ValueError, match="stems"):
        AudioResult(result_key="k", content_hash="h", engine="dsp", engine_version="1", waveform_key="w",
                    analysis_key="a", analysis={}, created_at=0)  # fmt: skip
    # stored before has_stems existed: read as a result with stems
    old = AudioResult.model_validate({**with_stems().model_dump(exclude={"has_stems"})})
    assert old.has_stems and set(old.stem_keys) == {"instrumental", "vocals"}


# -- the job: input, reads, consumer routes, quota ------------------------------------------------------------


def job(**kw) -> Job:
    base = {"job_id": "job_a1", "user_id": "usr_a1", "status": "succeeded", "bucket": "up", "key": "uploads/k.wav",
            "result_key": f"{HASH}#dsp", "created_at": 1.0, "updated_at": 1.0, "client": "api", "filename": "k.wav"}
    return Job.model_validate({**base, **kw})


def test_the_pipeline_input_says_separate_false_only_for_analysis_only_jobs():
    assert pipeline_input(job(separate=False))["separate"] is False
    assert "separate" not in pipeline_input(job())  # unchanged for every other job (replays recognised)
    # stored records from before the field read as wanting stems
    assert Job.model_validate(job().model_dump(exclude={"separate"})).separate is True


def test_create_upload_records_whether_stems_are_wanted():
    service, jobs, _ = make()
    created, _ = service.create_upload("usr_a1", filename="a.wav", content_type="audio/wav", size_bytes=10, engine=None,
                                       client="api", separate=False)  # fmt: skip
    assert jobs.items[created.job_id].separate is False


@pytest.mark.parametrize("stored", [stemless, with_stems], ids=["stemless result", "shared result with stems"])
def test_an_analysis_only_job_reads_analysis_and_waveform_and_no_stem_links(stored):
    service, jobs, _ = make(results=FakeResults(stored()))
    jobs.create(job(separate=False))
    links = service.result_links(jobs.items["job_a1"])
    assert links is not None and links["analysis"] == {"tempo": {"bpm": 120.0}} and links["waveform_url"]
    assert links["stems"] == [] and not any(k in links for k in ("instrumental_url", "vocals_url"))
    from melody.conversions.schemas import JobOut

    out = JobOut.of(jobs.items["job_a1"], links)  # the app's status route: no 500 on a stem-less result
    assert out.results is not None and out.results.instrumental_url is None


@pytest.mark.parametrize("stored", [stemless, with_stems], ids=["stemless result", "shared result with stems"])
def test_consumer_routes_answer_stems_unavailable_for_an_analysis_only_job(stored):
    service, jobs, _ = make(results=FakeResults(stored()))
    jobs.create(job(separate=False))
    for call in (lambda: service.download("usr_a1", "job_a1", "vocals", "m4a"),
                 lambda: service.download("usr_a1", "job_a1", "drums", "m4a"),
                 lambda: service.melody("usr_a1", "job_a1")):  # fmt: skip
        with pytest.raises(Conflict) as refused:
            call()
        assert refused.value.code == "stems_unavailable"
    service.storage.presign_download = lambda bucket, key, *, expires_s, filename: f"https://s3/{bucket}/{key}"
    assert service.download("usr_a1", "job_a1", "original", "m4a")["url"]  # the upload itself still downloads


def test_a_full_job_still_downloads_its_stems():
    service, jobs, _ = make(results=FakeResults(with_stems()))
    jobs.create(job(client="app"))
    service.storage.presign_download = lambda bucket, key, *, expires_s, filename: f"https://s3/{bucket}/{key}"
    assert service.download("usr_a1", "job_a1", "vocals", "m4a")["url"].endswith("stems/h/dsp/vocals.m4a")
    assert set(service.result_links(jobs.items["job_a1"])["stems"]) == {"instrumental", "vocals"}


def test_deleting_the_last_job_of_a_stemless_result_deletes_its_analysis_only():
    class Released(FakeResults):
        def release_ref(self, result_key, job_id):
            return self.result

    service, jobs, _ = make(results=Released(stemless()))
    deleted: list[str] = []
    service.storage.delete = lambda bucket, key: deleted.append(key)
    jobs.delete = lambda job_id: jobs.items.pop(job_id)
    jobs.create(job(separate=False))
    service.delete("usr_a1", "job_a1")
    assert "analysis/h/dsp/analysis.json" in deleted and not any(k.startswith("stems/") for k in deleted)


def test_b2b_analyses_are_not_refused_by_the_storage_quota_and_app_uploads_still_are():
    service, jobs, _ = make(max_bytes=10_000, storage_quota_bytes=15_000)
    jobs.stored_bytes = lambda user_id, *, pending_since: 14_000
    created, _ = service.create_upload("usr_a1", filename="a.wav", content_type="audio/wav", size_bytes=9_000,
                                       engine=None, client="api", separate=False)  # fmt: skip
    assert created.client == "api"
    with pytest.raises(InvalidInput) as refused:
        service.create_upload("usr_a1", filename="a.wav", content_type="audio/wav", size_bytes=9_000, engine=None)
    assert refused.value.code == "storage_quota_exceeded"
    with pytest.raises(InvalidInput) as too_big:  # the upload limit still holds for analyses
        service.create_upload("usr_a1", filename="a.wav", content_type="audio/wav", size_bytes=10_001, engine=None,
                              client="api")  # fmt: skip
    assert too_big.value.code == "file_too_large"


def test_renditions_of_an_analysis_only_job_are_refused_with_stems_unavailable():
    from tests.unit.renditions.fakes import job as rendition_job
    from tests.unit.renditions.test_rendition_service import make as renditions

    service, store, workflow = renditions(rendition_job().model_copy(update={"separate": False, "client": "api"}))
    with pytest.raises(Conflict) as refused:
        service.request("usr_a", "job_a1", semitones=2, tempo=1.0)
    assert refused.value.code == "stems_unavailable" and not store.items and not workflow.started
