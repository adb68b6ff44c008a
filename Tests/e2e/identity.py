"""A throwaway OpenID Connect issuer for the end-to-end tests.

``OIDCIssuer`` generates an RSA key pair, serves on 127.0.0.1 (a thread running
``http.server``)

    GET /.well-known/openid-configuration   {"issuer": ..., "jwks_uri": ..., ...}
    GET /jwks.json                          {"keys": [<the public key as a JWK, with kid>]}

    GET  /authorize    the authorization-code flow's sign-in page (a user-name form)
    POST /authorize    signs the named user in: 302 to redirect_uri with code and state
    POST /token        code + PKCE verifier -> ID token (aud = client id, nonce) and access token

and mints RS256 JWTs signed with that key (header ``kid`` set) carrying
iss/sub/aud/email/groups/client_id/iat/nbf/exp. The issuer is ``http://127.0.0.1:PORT``
(no TLS, loopback only). Every request it serves is logged in ``requests``; token requests,
parsed, in ``token_requests``. Users who may sign in are added with ``add_user``. A code is
good once, for the client, redirect URI and PKCE challenge it was issued for (S256 only).
"""
from __future__ import annotations

import base64
import hashlib
import html
import http.server
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

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
        self.token_requests: list[dict[str, str]] = []
        self.users: dict[str, list[str]] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                issuer.requests.append(self.path)
                path = self.path.split("?")[0]
                if path == "/.well-known/openid-configuration":
                    self._json(issuer.discovery())
                elif path == "/jwks.json":
                    self._json(issuer.jwks)
                elif path == "/authorize":
                    self._html(issuer.sign_in_page(_single(parse_qs(urlsplit(self.path).query))))
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                issuer.requests.append("POST " + self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = _single(parse_qs(self.rfile.read(length).decode()))
                path = self.path.split("?")[0]
                if path == "/authorize":
                    location = issuer.authorize(form)
                    if location is None:
                        self._html("<p>unknown user</p>", status=403)
                    else:
                        self.send_response(302)
                        self.send_header("Location", location)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                elif path == "/token":
                    issuer.token_requests.append(form)
                    answer, status = issuer.exchange(form)
                    self._json(answer, status)
                else:
                    self.send_error(404)

            def _html(self, text: str, status: int = 200) -> None:
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, value: Any, status: int = 200) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
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

    def add_user(self, name: str, groups: list[str]) -> None:
        self.users[name] = groups

    def sign_in_page(self, query: dict[str, str]) -> str:
        """A form that carries the authorization request on to POST /authorize."""
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items())
        return (f'<!doctype html><title>test issuer</title><form method="post" action="/authorize">{hidden}'
                '<input id="username" name="username"><button id="approve" type="submit">Sign in</button></form>')

    def authorize(self, form: dict[str, str]) -> str | None:
        """Issues a code for a known user; the redirect with code and state, or None."""
        user = form.get("username", "")
        if user not in self.users or form.get("response_type") != "code":
            return None
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "user": user, "client_id": form.get("client_id"), "redirect_uri": form.get("redirect_uri"),
                "nonce": form.get("nonce"), "challenge": form.get("code_challenge"),
                "method": form.get("code_challenge_method"), "scope": form.get("scope", ""),
            }
        separator = "&" if "?" in form["redirect_uri"] else "?"
        return form["redirect_uri"] + separator + urlencode({"code": code, "state": form.get("state", "")})

    def exchange(self, form: dict[str, str]) -> tuple[dict[str, Any], int]:
        """The token endpoint: a code good once, checked against its client, redirect URI and PKCE challenge."""
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return {"error": "invalid_grant", "error_description": "unknown or used code"}, 400
        if grant["client_id"] != form.get("client_id") or grant["redirect_uri"] != form.get("redirect_uri"):
            return {"error": "invalid_grant", "error_description": "client or redirect_uri differ"}, 400
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant["method"] != "S256" or not grant["challenge"] or challenge != grant["challenge"]:
            return {"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400
        user, client = grant["user"], grant["client_id"]
        id_token = self.token(sub=user, aud=client, email=f"{user}@example.com", groups=self.users[user],
                              nonce=grant["nonce"], client_id=None, azp=client)
        return {"access_token": self.token(sub=user, groups=self.users[user]), "id_token": id_token,
                "token_type": "Bearer", "expires_in": 3600}, 200

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


def _single(query: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in query.items()}
