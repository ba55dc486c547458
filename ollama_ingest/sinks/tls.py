"""TLS failures from influxdb-client (``ApiException`` status 0): which waiting cannot fix, and one line
that names the failure itself with what to do about it; and the RFC 3339 times the delete API takes."""

from __future__ import annotations

# TLS failures that waiting cannot fix: the certificate, the host name, or a server that does not speak TLS
_TLS_PERMANENT = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname mismatch",
                  "doesn't match", "WRONG_VERSION_NUMBER", "wrong version number", "SSLV3_ALERT", "TLSV1_ALERT",
                  "no such file", "PEM lib")


def tls_is_permanent(exc: Exception) -> bool:
    text = str(getattr(exc, "reason", "") or exc)
    return any(k in text for k in _TLS_PERMANENT)


def tls_message(url: str, exc: Exception) -> str:
    """One line naming the TLS failure itself and what to do about it."""
    text = " ".join(str(getattr(exc, "reason", "") or exc).split())
    core = text
    for marker in ("[SSL", "certificate verify failed", "hostname"):
        i = text.find(marker)
        if i >= 0:
            core = text[i:].split("')", 1)[0].split('")', 1)[0].rstrip(")")
            break
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return f"TLS failure at {url}: {core[:200]} (the server does not speak TLS there: use http://)"
    return (f"TLS failure at {url}: {core[:200]} (a private CA: ca_file / OLLAMA_INGEST_CA_FILE / "
            "INFLUXDB_V2_SSL_CA_CERT; a self-signed certificate: that file, or verify_ssl = false / --insecure)")


def rfc3339_ns(ns: int) -> str:
    """Nanoseconds since the epoch as RFC 3339 with all nine digits (what the delete API parses)."""
    from datetime import datetime, timezone

    sec, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"
