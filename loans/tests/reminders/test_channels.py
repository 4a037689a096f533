"""The channels: the SMS backends (file, HTTP gateway against a real local server) and e-mail."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loans.reminders.channels import DeliveryError, FileSmsBackend, HttpSmsBackend, message_send


@pytest.fixture
def gateway():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **json.loads(body)}
            )
            if self.path == "/slow":
                time.sleep(1.5)
            status = 500 if self.path == "/broken" else 200
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"message_id": f"gw-{len(received)}"}).encode())
            except BrokenPipeError:  # the client gave up (the timeout test)
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


def test_http_gateway_posts_json_and_returns_the_gateways_id(gateway):
    url, received = gateway
    backend = HttpSmsBackend(f"{url}/sms", timeout=2, token="s3cret")
    assert backend.send(to="0912345678", text="Nhắc nợ: 1.250.000 ₫", key="reminder-7") == "gw-1"
    assert received == [
        {
            "path": "/sms",
            "auth": "Bearer s3cret",
            "id": "reminder-7",
            "to": "0912345678",
            "text": "Nhắc nợ: 1.250.000 ₫",
        }
    ]


def test_http_gateway_error_and_timeout_are_failures(gateway):
    url, _ = gateway
    with pytest.raises(DeliveryError, match="HTTP 500"):
        HttpSmsBackend(f"{url}/broken", timeout=2).send(to="1", text="x", key="k")
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="Không kết nối được"):
        HttpSmsBackend(f"{url}/slow", timeout=0.3).send(to="1", text="x", key="k")
    assert time.monotonic() - started < 1.4
    with pytest.raises(DeliveryError):
        HttpSmsBackend("http://127.0.0.1:1/sms", timeout=1).send(to="1", text="x", key="k")


def test_http_gateway_through_the_setting(gateway, settings):
    url, received = gateway
    settings.SMS_BACKEND = "loans.reminders.channels.HttpSmsBackend"
    settings.SMS_HTTP_URL = f"{url}/sms"
    message_send(channel="sms", to="0987", subject="", body="Xin chào", key="reminder-1")
    assert received[0]["text"] == "Xin chào" and received[0]["id"] == "reminder-1"


def test_file_backend_writes_one_file_per_key(tmp_path):
    backend = FileSmsBackend(str(tmp_path))
    backend.send(to="0912", text="Lần một", key="reminder-1")
    backend.send(to="0912", text="Lần một", key="reminder-1")
    (file,) = tmp_path.glob("*.json")
    assert json.loads(file.read_text()) == {"id": "reminder-1", "to": "0912", "text": "Lần một"}


def test_no_recipient_or_unknown_channel_is_a_failure():
    with pytest.raises(DeliveryError):
        message_send(channel="sms", to="", subject="", body="x", key="k")
    with pytest.raises(DeliveryError):
        message_send(channel="fax", to="1", subject="", body="x", key="k")
