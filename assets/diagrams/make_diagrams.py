"""Draw the Docker-network diagrams of the post as SVG, in Korean and English.

This script is the diagrams' source: edit the shapes or the LABELS below, then run

    .venv/bin/python assets/diagrams/make_diagrams.py

which rewrites bridge.{ko,en}.svg and host.{ko,en}.svg next to it.  Plain Python and no
dependencies, so the output is reproducible byte for byte.

The pictures sit on their own light card: an SVG shown through <img> cannot see the page's
colour scheme, and a card keeps the same contrast in Material's light and dark palettes.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

FONT = (
    "'Noto Sans CJK KR', 'Noto Sans KR', 'Apple SD Gothic Neo', 'Malgun Gothic', "
    "'DejaVu Sans', sans-serif"
)
MONO = "'DejaVu Sans Mono', 'Noto Sans Mono CJK KR', Menlo, Consolas, monospace"

# Palette (GitHub Primer light colours): contrast ≥ 4.5:1 for text on every fill used.
INK, MUTED, LINE = "#1f2328", "#57606a", "#8c959f"
CARD, HOST = "#ffffff", "#f6f8fa"
CONTAINER, CONTAINER_LINE = "#ddf4ff", "#0969da"
BRIDGE, BRIDGE_LINE = "#fff8c5", "#9a6700"
VM, VM_LINE = "#fbefff", "#8250df"
PORT = "#1a7f37"

LABELS: dict[str, dict[str, str]] = {
    "ko": {
        "bridge_title": "bridge 모드: 컨테이너와 호스트의 연결",
        "bridge_desc": (
            "컨테이너마다 독립된 네트워크 네임스페이스가 있고, 각 컨테이너의 eth0은 veth 쌍으로 "
            "호스트의 docker0 브리지에 연결된다. docker0는 호스트의 eth0을 거쳐 외부 네트워크와 "
            "통신한다. -p 4000:4000으로 게시한 포트는 호스트의 4000번 포트로 들어온 연결을 "
            "컨테이너 A의 4000번 포트로 전달한다."
        ),
        "host": "호스트 (리눅스)",
        "container_a": "컨테이너 A",
        "container_b": "컨테이너 B",
        "netns": "네트워크 네임스페이스",
        "listens": "4000번 포트 대기",
        "veth": "veth 쌍",
        "docker0": "docker0 브리지",
        "host_eth0": "호스트 eth0",
        "nat": "NAT · 포트 게시",
        "outside": "외부 네트워크",
        "publish": "-p 4000:4000 — 호스트 4000 → 컨테이너 4000",
        "client": "접속: 호스트IP:4000",
        "host_title": "host 모드: 리눅스와 Windows·macOS의 차이",
        "host_desc": (
            "리눅스에서 --net=host로 만든 컨테이너는 별도의 네트워크 네임스페이스 없이 호스트의 "
            "네트워크 스택(eth0, 포트)을 그대로 사용하므로 포트를 매핑할 필요가 없다. "
            "Windows와 macOS에서는 도커 엔진이 리눅스 가상머신 안에서 실행되므로, host 모드의 "
            "컨테이너가 공유하는 것은 가상머신의 네트워크이고 실제 호스트의 네트워크가 아니다."
        ),
        "linux": "리눅스",
        "linux_host": "리눅스 호스트",
        "host_stack": "호스트 네트워크 스택 (eth0, 포트)",
        "engine": "도커 엔진",
        "host_container": "컨테이너 (--net=host)",
        "shares": "호스트의 스택을 그대로 사용",
        "no_mapping": "포트 매핑 필요 없음",
        "winmac": "Windows · macOS",
        "winmac_host": "Windows · macOS 호스트",
        "winmac_stack": "호스트 네트워크 (따로 분리됨)",
        "vm": "리눅스 가상머신 (VM)",
        "vm_stack": "VM 네트워크 스택",
        "vm_note": "여기서 host = 가상머신",
        "not_shared": "호스트와 공유되지 않음",
    },
    "en": {
        "bridge_title": "Bridge mode: how containers reach the host",
        "bridge_desc": (
            "Each container has its own network namespace; its eth0 is one end of a veth pair "
            "whose other end is attached to the host's docker0 bridge. docker0 reaches the "
            "outside network through the host's eth0. A port published with -p 4000:4000 "
            "forwards connections on the host's port 4000 to port 4000 of container A."
        ),
        "host": "Host (Linux)",
        "container_a": "Container A",
        "container_b": "Container B",
        "netns": "network namespace",
        "listens": "listens on :4000",
        "veth": "veth pair",
        "docker0": "docker0 bridge",
        "host_eth0": "host eth0",
        "nat": "NAT · published ports",
        "outside": "outside network",
        "publish": "-p 4000:4000 — host 4000 → container 4000",
        "client": "connect to host-IP:4000",
        "host_title": "Host mode: Linux versus Windows and macOS",
        "host_desc": (
            "On Linux a container started with --net=host has no network namespace of its own: "
            "it uses the host's network stack (eth0, ports) directly, so no port mapping is "
            "needed. On Windows and macOS the Docker engine runs inside a Linux virtual "
            "machine, so a host-mode container shares the VM's network, not the real host's."
        ),
        "linux": "Linux",
        "linux_host": "Linux host",
        "host_stack": "host network stack (eth0, ports)",
        "engine": "Docker engine",
        "host_container": "container (--net=host)",
        "shares": "uses the host's stack directly",
        "no_mapping": "no port mapping needed",
        "winmac": "Windows · macOS",
        "winmac_host": "Windows · macOS host",
        "winmac_stack": "host network (kept apart)",
        "vm": "Linux virtual machine (VM)",
        "vm_stack": "VM network stack",
        "vm_note": "here, host = the VM",
        "not_shared": "not shared with the host",
    },
}


# ----------------------------------------------------------------------------- primitives


def _text(x: float, y: float, s: str, *, size: int = 15, weight: str = "normal",
          fill: str = INK, anchor: str = "middle", mono: bool = False) -> str:
    family = MONO if mono else FONT
    return (
        f'<text x="{x:g}" y="{y:g}" font-family="{family}" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}">{escape(s)}</text>'
    )


def _box(x: float, y: float, w: float, h: float, *, fill: str, stroke: str,
         dash: bool = False, r: int = 10) -> str:
    extra = ' stroke-dasharray="6 4"' if dash else ""
    return (
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="{r}" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="2"{extra}/>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, *, stroke: str = LINE,
          width: int = 3, arrow: str | None = None, dash: bool = False,
          both: bool = False) -> str:
    marker = f' marker-end="url(#{arrow})"' if arrow else ""
    if arrow and both:
        marker += f' marker-start="url(#{arrow})"'
    extra = ' stroke-dasharray="7 5"' if dash else ""
    return (
        f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{stroke}" '
        f'stroke-width="{width}"{extra}{marker}/>'
    )


def _svg(lang: str, width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    defs = (
        "<defs>"
        f'<marker id="arrow-port" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{PORT}"/>'
        "</marker>"
        f'<marker id="arrow-line" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{LINE}"/>'
        "</marker>"
        "</defs>"
    )
    # width/height 100% + viewBox: scales to the column, stays sharp when zoomed.
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="title desc" '
        f'xml:lang="{lang}" lang="{lang}">\n'
        f'<title id="title">{escape(title)}</title>\n'
        f'<desc id="desc">{escape(desc)}</desc>\n'
        f"{defs}\n"
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="14" fill="{CARD}" '
        f'stroke="#d0d7de" stroke-width="2"/>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )


# ----------------------------------------------------------------------------- diagrams


def bridge(lang: str) -> str:
    """(a) bridge mode: namespaces, veth pairs, docker0, host eth0, a published port."""
    t = LABELS[lang]
    body = [
        _text(420, 40, t["bridge_title"], size=20, weight="bold"),
        _box(30, 60, 600, 470, fill=HOST, stroke=LINE),
        _text(50, 88, t["host"], size=16, weight="bold", anchor="start"),
    ]
    for x, name, ip in ((70, t["container_a"], "172.17.0.2"), (350, t["container_b"],
                                                                "172.17.0.3")):
        body += [
            _box(x, 105, 240, 150, fill=CONTAINER, stroke=CONTAINER_LINE),
            _text(x + 120, 132, name, size=16, weight="bold"),
            _text(x + 120, 155, t["netns"], size=13, fill=MUTED),
            _box(x + 45, 172, 150, 52, fill=CARD, stroke=CONTAINER_LINE, r=8),
            _text(x + 120, 194, "eth0", size=14, mono=True),
            _text(x + 120, 214, ip, size=13, mono=True, fill=MUTED),
            _line(x + 120, 224, x + 120, 300, stroke=CONTAINER_LINE),
            _text(x + 130, 276, t["veth"], size=13, anchor="start", fill=CONTAINER_LINE),
            _text(x + 130, 292, f"veth{'a' if x == 70 else 'b'}", size=12, anchor="start",
                  mono=True, fill=MUTED),
        ]
    body += [
        _text(182, 246, t["listens"], size=12, fill=PORT, anchor="end"),
        _box(110, 300, 440, 58, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(330, 326, t["docker0"], size=16, weight="bold"),
        _text(330, 346, "172.17.0.1/16", size=13, mono=True, fill=MUTED),
        _line(330, 358, 330, 420, stroke=BRIDGE_LINE),
        _text(340, 395, t["nat"], size=13, anchor="start", fill=BRIDGE_LINE),
        _box(230, 420, 200, 58, fill=CARD, stroke=INK),
        _text(330, 446, t["host_eth0"], size=15, weight="bold"),
        _text(330, 466, ":4000", size=13, mono=True, fill=PORT),
        # host eth0 ↔ outside network
        _line(430, 449, 690, 449, arrow="arrow-line", both=True),
        _box(690, 405, 160, 88, fill=CARD, stroke=LINE, dash=True),
        _text(770, 443, t["outside"], size=15, weight="bold"),
        _text(770, 468, t["client"], size=12, fill=MUTED),
        # published port: host 4000 → container A 4000
        f'<path d="M 230 462 L 50 462 L 50 198 L 112 198" fill="none" stroke="{PORT}" '
        'stroke-width="3" stroke-dasharray="8 5" marker-end="url(#arrow-port)"/>',
        _text(50, 510, t["publish"], size=14, weight="bold", fill=PORT, anchor="start"),
    ]
    return _svg(lang, 880, 550, t["bridge_title"], t["bridge_desc"], body)


def host(lang: str) -> str:
    """(b) host mode: Linux shares the host stack; Windows/macOS share the Linux VM's stack."""
    t = LABELS[lang]
    body = [
        _text(440, 40, t["host_title"], size=20, weight="bold"),
        # Linux panel
        _text(215, 78, t["linux"], size=17, weight="bold"),
        _box(30, 92, 370, 370, fill=HOST, stroke=LINE),
        _text(50, 120, t["linux_host"], size=15, weight="bold", anchor="start"),
        _box(60, 140, 310, 112, fill=CARD, stroke=INK, dash=False),
        _text(215, 166, t["engine"], size=14, fill=MUTED),
        _box(85, 178, 260, 60, fill=CONTAINER, stroke=CONTAINER_LINE),
        _text(215, 204, t["host_container"], size=15, weight="bold", mono=False),
        _text(215, 226, t["shares"], size=12, fill=MUTED),
        _line(215, 238, 215, 330, stroke=PORT, width=4),
        _text(225, 292, t["no_mapping"], size=13, anchor="start", fill=PORT),
        _box(60, 330, 310, 100, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(215, 362, t["host_stack"], size=14, weight="bold"),
        _text(215, 390, "eth0 · :4000", size=13, mono=True, fill=MUTED),
        _text(215, 414, "= " + t["linux_host"], size=12, fill=MUTED),
        # Windows/macOS panel
        _text(665, 78, t["winmac"], size=17, weight="bold"),
        _box(450, 92, 430, 370, fill=HOST, stroke=LINE),
        _text(470, 120, t["winmac_host"], size=15, weight="bold", anchor="start"),
        _box(470, 135, 390, 225, fill=VM, stroke=VM_LINE),
        _text(490, 160, t["vm"], size=15, weight="bold", anchor="start", fill=VM_LINE),
        _box(495, 172, 340, 82, fill=CARD, stroke=INK),
        _text(665, 192, t["engine"], size=13, fill=MUTED),
        _box(520, 200, 290, 46, fill=CONTAINER, stroke=CONTAINER_LINE),
        _text(665, 228, t["host_container"], size=14, weight="bold"),
        _line(665, 254, 665, 282, stroke=PORT, width=4),
        _box(495, 282, 340, 62, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(665, 308, t["vm_stack"], size=14, weight="bold"),
        _text(665, 330, t["vm_note"], size=13, fill=VM_LINE, weight="bold"),
        _box(495, 385, 340, 58, fill=CARD, stroke=LINE, dash=True),
        _text(665, 410, t["winmac_stack"], size=14, weight="bold"),
        _text(665, 431, t["not_shared"], size=12, fill=MUTED),
        # the gap between VM and host network
        f'<path d="M 540 344 L 540 385" stroke="{LINE}" stroke-width="3" '
        'stroke-dasharray="4 6"/>',
        '<path d="M 528 358 L 552 372 M 552 358 L 528 372" stroke="#cf222e" '
        'stroke-width="3"/>',
    ]
    return _svg(lang, 910, 490, t["host_title"], t["host_desc"], body)


def main() -> None:
    for lang in LABELS:
        for name, draw in (("bridge", bridge), ("host", host)):
            out = HERE / f"{name}.{lang}.svg"
            out.write_text(draw(lang), encoding="utf-8")
            print(out.relative_to(HERE.parent.parent))


if __name__ == "__main__":
    main()
