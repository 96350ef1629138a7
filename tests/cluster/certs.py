"""The keys and certificates a throwaway control plane needs, generated fresh for every start.

One CA signs the apiserver's serving certificate and the admin's client certificate (group
system:masters, so the admin kubeconfig bypasses RBAC). A separate key pair signs
ServiceAccount tokens. EC P-256 keys: generating them is instant, unlike RSA.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=7)
# Names a client may use for the apiserver. Tests reach it as 127.0.0.1; the node's pods use the
# `kubernetes` Service (10.0.0.1), and its kubelet the node's gateway address
# (added per cluster, see generate()).
SERVING_DNS_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
SERVING_IPS = ("127.0.0.1", "10.0.0.1")


@dataclass(frozen=True)
class CertFiles:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path
    service_account_public_key: Path


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    san: x509.SubjectAlternativeName | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _new_key()
    builder = (
        _builder(subject, ca_name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _new_ca(ca_name: x509.Name) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_key = _new_key()
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, ca_key


def cert_files(directory: Path) -> CertFiles:
    return CertFiles(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        admin_cert=directory / "admin.crt",
        admin_key=directory / "admin.key",
        service_account_key=directory / "sa.key",
        service_account_public_key=directory / "sa.pub",
    )


def generate(directory: Path, extra_serving_ips: tuple[str, ...] = ()) -> CertFiles:
    """The CA, the apiserver's serving cert (valid for extra_serving_ips too), admin and SA keys."""
    directory.mkdir(parents=True, exist_ok=True)
    files = cert_files(directory)

    ca_name = _name("kubedrift-test-ca")
    ca_cert, ca_key = _new_ca(ca_name)
    _write_key(files.ca_key, ca_key)
    _write_cert(files.ca_cert, ca_cert)

    san = x509.SubjectAlternativeName(
        [x509.DNSName(name) for name in SERVING_DNS_NAMES]
        + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVING_IPS + extra_serving_ips]
    )
    serving_cert, serving_key = _leaf(
        ca_key, ca_name, _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, san
    )
    _write_cert(files.serving_cert, serving_cert)
    _write_key(files.serving_key, serving_key)

    admin_cert, admin_key = _leaf(
        ca_key, ca_name, _name("kubedrift-admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH
    )
    _write_cert(files.admin_cert, admin_cert)
    _write_key(files.admin_key, admin_key)

    sa_key = _new_key()
    _write_key(files.service_account_key, sa_key)
    files.service_account_public_key.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return files


@dataclass(frozen=True)
class NodeCertFiles:
    """What a real node needs, all signed by the cluster CA."""

    kubelet_serving_cert: Path  # the kubelet's HTTPS API (logs, exec, port-forward)
    kubelet_serving_key: Path
    kubelet_client_cert: Path  # the kubelet's identity: system:node:<name>, group system:nodes
    kubelet_client_key: Path
    apiserver_kubelet_client_cert: Path  # the apiserver calling the kubelet (system:masters)
    apiserver_kubelet_client_key: Path
    kube_proxy_cert: Path  # system:kube-proxy, bound to system:node-proxier by the default RBAC
    kube_proxy_key: Path
    scheduler_cert: Path  # system:kube-scheduler, bound to system:kube-scheduler
    scheduler_key: Path


def node_cert_files(directory: Path) -> NodeCertFiles:
    return NodeCertFiles(
        kubelet_serving_cert=directory / "kubelet-serving.crt",
        kubelet_serving_key=directory / "kubelet-serving.key",
        kubelet_client_cert=directory / "kubelet-client.crt",
        kubelet_client_key=directory / "kubelet-client.key",
        apiserver_kubelet_client_cert=directory / "apiserver-kubelet-client.crt",
        apiserver_kubelet_client_key=directory / "apiserver-kubelet-client.key",
        kube_proxy_cert=directory / "kube-proxy.crt",
        kube_proxy_key=directory / "kube-proxy.key",
        scheduler_cert=directory / "scheduler.crt",
        scheduler_key=directory / "scheduler.key",
    )


def generate_node(directory: Path, node_name: str, node_ip: str) -> NodeCertFiles:
    """Certificates for the kubelet, kube-proxy and kube-scheduler, signed by the CA in directory."""
    files = node_cert_files(directory)
    ca = cert_files(directory)
    ca_key = serialization.load_pem_private_key(ca.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_name = x509.load_pem_x509_certificate(ca.ca_cert.read_bytes()).subject
    kubelet_san = x509.SubjectAlternativeName(
        [x509.DNSName(node_name), x509.IPAddress(ipaddress.ip_address(node_ip))]
    )
    leaves = {
        "kubelet_serving": (_name(node_name), ExtendedKeyUsageOID.SERVER_AUTH, kubelet_san),
        "kubelet_client": (
            _name(f"system:node:{node_name}", "system:nodes"),
            ExtendedKeyUsageOID.CLIENT_AUTH,
            None,
        ),
        "apiserver_kubelet_client": (
            _name("kube-apiserver-kubelet-client", "system:masters"),
            ExtendedKeyUsageOID.CLIENT_AUTH,
            None,
        ),
        "kube_proxy": (_name("system:kube-proxy"), ExtendedKeyUsageOID.CLIENT_AUTH, None),
        "scheduler": (_name("system:kube-scheduler"), ExtendedKeyUsageOID.CLIENT_AUTH, None),
    }
    for name, (subject, usage, san) in leaves.items():
        cert, key = _leaf(ca_key, ca_name, subject, usage, san)
        _write_cert(getattr(files, f"{name}_cert"), cert)
        _write_key(getattr(files, f"{name}_key"), key)
    return files


@dataclass(frozen=True)
class PrivateCA:
    """A CA of its own for one test server (e.g. the S3 server), apart from the cluster's CA."""

    cert: Path
    key: Path

    @classmethod
    def create(cls, directory: Path, common_name: str) -> PrivateCA:
        directory.mkdir(parents=True, exist_ok=True)
        ca = cls(cert=directory / "ca.crt", key=directory / "ca.key")
        ca_cert, ca_key = _new_ca(_name(common_name))
        _write_key(ca.key, ca_key)
        _write_cert(ca.cert, ca_cert)
        return ca

    def issue_serving(
        self, cert: Path, key: Path, common_name: str, dns_names: tuple[str, ...], ips: tuple[str, ...]
    ) -> None:
        """A serving certificate for dns_names and ips, written so a reader never sees half a file."""
        ca_key = serialization.load_pem_private_key(self.key.read_bytes(), password=None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        ca_name = x509.load_pem_x509_certificate(self.cert.read_bytes()).subject
        san = x509.SubjectAlternativeName(
            [x509.DNSName(name) for name in dns_names]
            + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        )
        leaf, leaf_key = _leaf(ca_key, ca_name, _name(common_name), ExtendedKeyUsageOID.SERVER_AUTH, san)
        partial_key, partial_cert = (
            key.with_name(key.name + ".partial"),
            cert.with_name(cert.name + ".partial"),
        )
        _write_key(partial_key, leaf_key)
        _write_cert(partial_cert, leaf)
        partial_key.replace(key)
        partial_cert.replace(cert)
