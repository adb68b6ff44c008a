"""The S3 server the collector's S3 back end is tested against (issue 22): Ceph's RADOS
Gateway from Debian (scripts/s3/radosgw.py). These tests hold the harness to what that back
end relies on: AWS Signature V4 is checked (an unsigned or mis-signed request is refused), and
a conditional write (`If-None-Match: *`) of an existing key answers 412 and changes nothing.
The requests are signed here by a minimal SigV4 (the collector's own signer is checked against
AWS's published vectors in ObjectStorageTests)."""
from __future__ import annotations

import datetime
import hashlib
import hmac
import pathlib
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts" / "s3"))
import radosgw as rgw  # noqa: E402


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    try:
        g = rgw.RadosGateway(tmp_path_factory.mktemp("radosgw"))
    except rgw.Unavailable as e:
        pytest.skip(str(e))
    g.start()
    yield g
    g.stop()


def s3(g, method: str, path: str, body: bytes = b"", headers: dict | None = None, secret: str | None = None) -> tuple[int, bytes]:
    amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(body).hexdigest()
    signed = {"host": g.endpoint.removeprefix("http://"), "x-amz-date": amz, "x-amz-content-sha256": payload}
    signed.update({k.lower(): v for k, v in (headers or {}).items()})
    names = sorted(signed)
    canonical = "\n".join([method, path, "", "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names), payload])
    scope = f"{amz[:8]}/{g.region}/s3/aws4_request"
    key = ("AWS4" + (secret or g.secret_key)).encode()
    for part in (amz[:8], g.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = f"AWS4-HMAC-SHA256 Credential={g.access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    request = urllib.request.Request(g.endpoint + path, data=body if method in ("PUT", "POST") else None, method=method, headers=signed)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_signatures_are_checked_and_conditional_writes_refuse_an_existing_key(gateway):
    assert s3(gateway, "PUT", "/recordings")[0] == 200
    assert s3(gateway, "PUT", "/recordings/team-a.weather/1.seg.gz", b"first", {"If-None-Match": "*"})[0] == 200
    status, body = s3(gateway, "PUT", "/recordings/team-a.weather/1.seg.gz", b"second", {"If-None-Match": "*"})
    assert status == 412 and b"PreconditionFailed" in body
    assert s3(gateway, "GET", "/recordings/team-a.weather/1.seg.gz") == (200, b"first")
    status, body = s3(gateway, "GET", "/recordings/team-a.weather/1.seg.gz", secret="not-the-secret")
    assert status == 403 and b"SignatureDoesNotMatch" in body
    unsigned = urllib.request.Request(gateway.endpoint + "/recordings/team-a.weather/1.seg.gz")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=30)
    assert refused.value.code == 403
