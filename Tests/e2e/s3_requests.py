"""Signed S3 requests for the tests, by a minimal AWS Signature V4 written here (the collector's
own signer is checked against AWS's published vectors in ObjectStorageTests): to look into a
bucket behind the collector's back."""
from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import urllib.error
import urllib.parse
import urllib.request


def s3(g, method: str, path: str, body: bytes = b"", headers: dict | None = None, secret: str | None = None,
       query: dict | None = None) -> tuple[int, bytes]:
    """One request to the gateway `g` (scripts/s3/radosgw.py's RadosGateway); path is already encoded."""
    amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(body).hexdigest()
    signed = {"host": g.endpoint.removeprefix("http://"), "x-amz-date": amz, "x-amz-content-sha256": payload}
    signed.update({k.lower(): v for k, v in (headers or {}).items()})
    names = sorted(signed)
    canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                               for k, v in sorted((query or {}).items()))
    canonical = "\n".join([method, path, canonical_query, "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names), payload])
    scope = f"{amz[:8]}/{g.region}/s3/aws4_request"
    key = ("AWS4" + (secret or g.secret_key)).encode()
    for part in (amz[:8], g.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = f"AWS4-HMAC-SHA256 Credential={g.access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    url = g.endpoint + path + ("?" + canonical_query if canonical_query else "")
    request = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method, headers=signed)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def list_keys(g, bucket: str, prefix: str = "") -> list[str]:
    """Every key under prefix (one page: the tests' buckets are small)."""
    status, body = s3(g, "GET", f"/{bucket}", query={"list-type": "2", "prefix": prefix})
    assert status == 200, body
    return re.findall(r"<Key>([^<]*)</Key>", body.decode())
