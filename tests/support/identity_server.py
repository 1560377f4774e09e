"""A loopback HTTPS identity provider for both directions of Bot Framework auth.

- The bot's outbound token: an ADFS-style authority (`/adfs`) that MSAL's client-credentials flow
  accepts without asking login.microsoftonline.com for instance discovery; a tenant's authority
  (`/{tenant}`, as a single-tenant bot signs in); and the managed-identity endpoint App Service and
  Azure Functions give an app (IDENTITY_ENDPOINT, IDENTITY_HEADER), as a UserAssignedMSI bot's.
- The channel's inbound tokens: OpenID metadata and a JWKS with a test RSA key, and a signer for
  tokens like the ones Bot Framework puts on each activity.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from testbed.loopback_server import LoopbackServer

CHANNEL_ISSUER = "https://api.botframework.com"
SIGNING_KEY_ID = "test-channel-key"


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "identity.crt", folder / "identity.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class IdentityServer(LoopbackServer):
    def __init__(self, folder: Path, app_id: str, app_password: str) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_password = app_password
        self.cert_path, self._key_path = _self_signed_certificate(folder)
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.token_lifetime_seconds = 3600
        self.token_requests = 0
        self.identity_header = "test-identity-header"
        # The tenant of each token request to a tenant's authority, and each managed identity's
        # client id, in order.
        self.tenants_asked: list[str] = []
        self.identities_asked: list[str] = []

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def login_url(self) -> str:
        return f"{self.base_url}/adfs"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.base_url}/channel/.well-known/openidconfiguration"

    def tenant_login_url(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}"

    @property
    def managed_identity_endpoint(self) -> str:
        return f"{self.base_url}/msi/token"

    def channel_token(self, service_url: str, **claims: object) -> str:
        """A token like those the channel signs; `claims` override, add or (None) remove."""
        now = int(time.time())
        body: dict[str, object] = {
            "iss": CHANNEL_ISSUER,
            "aud": self.app_id,
            "serviceurl": service_url,
            "nbf": now - 10,
            "iat": now - 10,
            "exp": now + 600,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        kid = str(body.pop("_kid", SIGNING_KEY_ID))
        key = body.pop("_key", self.signing_key)
        return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/adfs/.well-known/openid-configuration", self._adfs_metadata)
        app.router.add_post("/adfs/oauth2/token", self._token)
        app.router.add_get("/msi/token", self._managed_identity_token)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._tenant_metadata)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._tenant_token)
        app.router.add_get("/channel/.well-known/openidconfiguration", self._channel_metadata)
        app.router.add_get("/channel/keys", self._channel_keys)

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self._key_path)
        return context

    async def _adfs_metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.login_url,
                "authorization_endpoint": f"{self.login_url}/oauth2/authorize",
                "token_endpoint": f"{self.login_url}/oauth2/token",
            }
        )

    async def _tenant_metadata(self, request: web.Request) -> web.Response:
        authority = self.tenant_login_url(request.match_info["tenant"])
        return web.json_response(
            {
                "issuer": f"{authority}/v2.0",
                "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                "token_endpoint": f"{authority}/oauth2/v2.0/token",
            }
        )

    async def _tenant_token(self, request: web.Request) -> web.Response:
        answer = await self._token(request, tid=request.match_info["tenant"])
        if answer.status == 200:
            self.tenants_asked.append(request.match_info["tenant"])
        return answer

    async def _token(self, request: web.Request, **claims: str) -> web.Response:
        form = parse_qs((await request.read()).decode())
        if form.get("client_id") != [self.app_id] or form.get("client_secret") != [
            self.app_password
        ]:
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_seconds,
                "access_token": self._bot_token(**claims),
            }
        )

    async def _managed_identity_token(self, request: web.Request) -> web.Response:
        """App Service's managed-identity protocol: the identity header proves the caller is the
        app; the client id picks its user-assigned identity."""
        client_id = request.query.get("client_id", "")
        if request.headers.get("X-IDENTITY-HEADER") != self.identity_header:
            return web.json_response({"statusCode": 401, "message": "bad header"}, status=401)
        if client_id != self.app_id or not request.query.get("resource"):
            return web.json_response({"statusCode": 400, "message": "no such identity"}, status=400)
        self.identities_asked.append(client_id)
        return web.json_response(
            {
                "access_token": self._bot_token(),
                "expires_on": str(int(time.time()) + self.token_lifetime_seconds),
                "resource": request.query["resource"],
                "token_type": "Bearer",
                "client_id": client_id,
            }
        )

    def _bot_token(self, **claims: str) -> str:
        self.token_requests += 1
        now = int(time.time())
        return jwt.encode(
            {
                "aud": "https://api.botframework.com",
                "appid": self.app_id,
                "iat": now,
                "exp": now + self.token_lifetime_seconds,
                "jti": str(uuid.uuid4()),
                **claims,
            },
            self.signing_key,
            algorithm="RS256",
        )

    async def _channel_metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": CHANNEL_ISSUER,
                "jwks_uri": f"{self.base_url}/channel/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _channel_keys(self, request: web.Request) -> web.Response:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key()))
        jwk.update({"kid": SIGNING_KEY_ID, "use": "sig", "endorsements": ["msteams", "webchat"]})
        return web.json_response({"keys": [jwk]})
