"""A throwaway OpenID Connect issuer for the end-to-end tests.

``OIDCIssuer`` generates an RSA key pair, serves on 127.0.0.1 (a thread running
``http.server``)

    GET /.well-known/openid-configuration   {"issuer": ..., "jwks_uri": ..., ...}
    GET /jwks.json                          {"keys": [<the public key as a JWK, with kid>]}

and mints RS256 JWTs signed with that key (header ``kid`` set) carrying
iss/sub/aud/email/groups/client_id/iat/nbf/exp. The issuer is ``http://127.0.0.1:PORT``
(no TLS, loopback only). Every request it serves is logged in ``requests``.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import secrets
import threading
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEFAULT_AUDIENCE = "mcp-recorder"


class OIDCIssuer:
    def __init__(self, host: str = "127.0.0.1"):
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "e2e-" + secrets.token_hex(4)
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        self.jwks = {"keys": [jwk]}
        self.requests: list[str] = []
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                issuer.requests.append(self.path)
                path = self.path.split("?")[0]
                if path == "/.well-known/openid-configuration":
                    self._json(issuer.discovery())
                elif path == "/jwks.json":
                    self._json(issuer.jwks)
                else:
                    self.send_error(404)

            def _json(self, value: Any) -> None:
                body = json.dumps(value).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=300")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.issuer = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-issuer", daemon=True)
        self._thread.start()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks.json",
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """The default claims updated with ``overrides``; an override of None drops the claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "alice",
            "aud": DEFAULT_AUDIENCE,
            "email": "alice@example.com",
            "groups": ["sre", "mcp-users"],
            "client_id": "e2e-test-client",
            "iat": now,
            "nbf": now - 5,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, kid: str | None = None, key: Any = None, **claims: Any) -> str:
        """An RS256 JWT with the default claims updated by ``claims`` (None drops one)."""
        return jwt.encode(self.claims(**claims), key or self._key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def foreign_token(self, **claims: Any) -> str:
        """A token with the right kid and claims but signed by another key (fails verification)."""
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.token(key=other, **claims)

    @staticmethod
    def fingerprint(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
