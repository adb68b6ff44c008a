"""The S3 server the collector's S3 back end is tested against (issue 22): Ceph's RADOS
Gateway from Debian (scripts/s3/radosgw.py). These tests hold the harness to what that back
end relies on: AWS Signature V4 is checked (an unsigned or mis-signed request is refused), and
a conditional write (`If-None-Match: *`) of an existing key answers 412 and changes nothing.
The requests are signed here by a minimal SigV4 (the collector's own signer is checked against
AWS's published vectors in ObjectStorageTests)."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from s3_requests import s3


def test_signatures_are_checked_and_conditional_writes_refuse_an_existing_key(radosgw):
    gateway = radosgw
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
