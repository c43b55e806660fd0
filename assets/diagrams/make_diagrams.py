"""Draw the Docker-network diagrams of the post as SVG, in Korean and English.

This script is the diagrams' source: edit the shapes or the LABELS below, then run

    .venv/bin/python assets/diagrams/make_diagrams.py

which rewrites the SVGs next to it: bridge and host, each in two layouts — a wide one
(``bridge.ko.svg``) for a desktop column and a narrow one (``bridge-narrow.ko.svg``) that a
phone shows instead, whose labels stay at least 12 px tall in a 390 px wide screen — in Korean
and English.  Plain Python and no dependencies, so the output is reproducible byte for byte.

The wide files carry a width and height (opened on their own they show at full size); the
narrow ones only a viewBox, so a phone that opens one fits it to the screen's width.

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
        "publish_flag": "-p 4000:4000",
        "publish_what": "호스트 4000 → 컨테이너 4000",
        "client": "접속: 호스트IP:4000",
        "bridge_title_lines": "bridge 모드:\n컨테이너와 호스트의 연결",
        "netns_lines": "네트워크\n네임스페이스",
        "host_title": "host 모드: 리눅스와 Windows·macOS의 차이",
        "host_title_lines": "host 모드:\n리눅스와 Windows·macOS의 차이",
        "host_desc": (
            "리눅스에서 --net=host로 만든 컨테이너는 별도의 네트워크 네임스페이스 없이 호스트의 "
            "네트워크 스택(eth0, 포트)을 그대로 사용하므로 포트를 매핑할 필요가 없다. "
            "Windows와 macOS의 Docker Desktop은 도커 엔진을 리눅스 가상머신 안에서 실행하므로, "
            "host 모드의 컨테이너가 함께 쓰는 것은 그 가상머신의 네트워크다. Docker Desktop "
            "4.34부터는 설정에서 host 네트워킹을 켤 수 있고, 켜면 컨테이너가 연 TCP·UDP 포트를 "
            "PC에서도 쓸 수 있다. 기본으로는 꺼져 있다."
        ),
        "linux": "리눅스",
        "linux_host": "리눅스 호스트",
        "host_stack": "호스트 네트워크 스택 (eth0, 포트)",
        "engine": "도커 엔진",
        "host_container": "컨테이너 (--net=host)",
        "shares": "호스트의 스택을 그대로 사용",
        "no_mapping": "포트 매핑 필요 없음",
        "winmac": "Windows · macOS (Docker Desktop)",
        "winmac_host": "내 PC (Windows · macOS)",
        "vm": "리눅스 가상머신 (Docker Desktop)",
        "vm_stack": "가상머신의 네트워크 스택",
        "vm_note": "여기서 host = 이 가상머신",
        "opt_in": "4.34 이상: 설정에서 켜면",
        "opt_in_what": "TCP·UDP 포트를 내 PC와 나눠 씀",
        "pc_stack": "내 PC의 네트워크 (localhost, 포트)",
        "pc_default": "이 연결은 기본으로 꺼져 있음",
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
        "publish_flag": "-p 4000:4000",
        "publish_what": "host 4000 → container 4000",
        "client": "connect to host-IP:4000",
        "bridge_title_lines": "Bridge mode:\nhow containers reach the host",
        "netns_lines": "network\nnamespace",
        "host_title": "Host mode: Linux versus Windows and macOS",
        "host_title_lines": "Host mode:\nLinux versus Windows and macOS",
        "host_desc": (
            "On Linux a container started with --net=host has no network namespace of its own: "
            "it uses the host's network stack (eth0, ports) directly, so no port mapping is "
            "needed. On Windows and macOS, Docker Desktop runs the Docker engine inside a Linux "
            "virtual machine, so a host-mode container shares that VM's network. Since Docker "
            "Desktop 4.34, host networking can be turned on in the settings; then the TCP and "
            "UDP ports a container opens can be used from the PC too. It is off by default."
        ),
        "linux": "Linux",
        "linux_host": "Linux host",
        "host_stack": "host network stack (eth0, ports)",
        "engine": "Docker engine",
        "host_container": "container (--net=host)",
        "shares": "uses the host's stack directly",
        "no_mapping": "no port mapping needed",
        "winmac": "Windows · macOS (Docker Desktop)",
        "winmac_host": "your PC (Windows · macOS)",
        "vm": "Linux VM (run by Docker Desktop)",
        "vm_stack": "the VM's network stack",
        "vm_note": "here, host = this VM",
        "opt_in": "4.34 and later, once turned on:",
        "opt_in_what": "TCP/UDP ports shared with your PC",
        "pc_stack": "your PC's network (localhost, ports)",
        "pc_default": "this link is off by default",
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


def _lines(x: float, y: float, s: str, *, step: float, size: int, weight: str = "normal",
           fill: str = INK) -> list[str]:
    """A label broken at its newlines, one <text> per line, ``step`` apart."""
    return [_text(x, y + i * step, part, size=size, weight=weight, fill=fill)
            for i, part in enumerate(s.split("\n"))]


def _svg(lang: str, width: int, height: int, title: str, desc: str, body: list[str], *,
         fixed_size: bool = True) -> str:
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
    # viewBox: scales to the column, stays sharp when zoomed. A fixed width and height make
    # the file open at full size on its own; without them (the narrow layouts) it fills the
    # window, which is what a phone needs.
    size = f'width="{width}" height="{height}" ' if fixed_size else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'{size}role="img" aria-labelledby="title desc" '
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
            _text(x + 130, 292, f"veth{'a' if x == 70 else 'b'}", size=13, anchor="start",
                  mono=True, fill=MUTED),
        ]
    body += [
        _text(180, 246, t["listens"], size=13, fill=PORT, anchor="end"),
        _box(110, 300, 440, 58, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(330, 326, t["docker0"], size=16, weight="bold"),
        _text(330, 346, "172.17.0.1/16", size=13, mono=True, fill=MUTED),
        _line(330, 358, 330, 420, stroke=BRIDGE_LINE),
        _text(340, 395, t["nat"], size=13, anchor="start", fill=BRIDGE_LINE),
        _box(230, 420, 200, 58, fill=CARD, stroke=INK),
        _text(330, 446, t["host_eth0"], size=15, weight="bold"),
        _text(330, 466, ":4000", size=13, mono=True, fill=PORT),
        # host eth0 ↔ outside network
        _line(430, 449, 680, 449, arrow="arrow-line", both=True),
        _box(680, 400, 180, 98, fill=CARD, stroke=LINE, dash=True),
        _text(770, 440, t["outside"], size=15, weight="bold"),
        _text(770, 466, t["client"], size=13, fill=MUTED),
        # published port: host 4000 → container A 4000
        f'<path d="M 230 462 L 50 462 L 50 198 L 112 198" fill="none" stroke="{PORT}" '
        'stroke-width="3" stroke-dasharray="8 5" marker-end="url(#arrow-port)"/>',
        _text(50, 510, f"{t['publish_flag']} — {t['publish_what']}", size=14, weight="bold",
              fill=PORT, anchor="start"),
    ]
    return _svg(lang, 880, 550, t["bridge_title"], t["bridge_desc"], body)


def bridge_narrow(lang: str) -> str:
    """(a) for a phone: the same parts stacked, the outside network below the host."""
    t = LABELS[lang]
    body = [
        *_lines(180, 32, t["bridge_title_lines"], step=24, size=18, weight="bold"),
        _box(12, 80, 336, 420, fill=HOST, stroke=LINE),
        _text(26, 106, t["host"], size=16, weight="bold", anchor="start"),
    ]
    for x, name, ip, veth in ((28, t["container_a"], "172.17.0.2", "vetha"),
                              (184, t["container_b"], "172.17.0.3", "vethb")):
        body += [
            _box(x, 120, 148, 150, fill=CONTAINER, stroke=CONTAINER_LINE),
            _text(x + 74, 144, name, size=15, weight="bold"),
            *_lines(x + 74, 164, t["netns_lines"], step=18, size=14, fill=MUTED),
            _box(x + 14, 194, 120, 62, fill=CARD, stroke=CONTAINER_LINE, r=8),
            _text(x + 74, 218, "eth0", size=15, mono=True),
            _text(x + 74, 242, ip, size=14, mono=True, fill=MUTED),
            _line(x + 74, 256, x + 74, 318, stroke=CONTAINER_LINE),
            _text(x + 82, 290, t["veth"], size=14, anchor="start", fill=CONTAINER_LINE),
            _text(x + 82, 308, veth, size=14, anchor="start", mono=True, fill=MUTED),
        ]
    body += [
        _box(28, 318, 304, 60, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(180, 343, t["docker0"], size=16, weight="bold"),
        _text(180, 366, "172.17.0.1/16", size=14, mono=True, fill=MUTED),
        _line(180, 378, 180, 420, stroke=BRIDGE_LINE),
        _text(190, 404, t["nat"], size=14, anchor="start", fill=BRIDGE_LINE),
        _box(96, 420, 168, 62, fill=CARD, stroke=INK),
        _text(180, 446, t["host_eth0"], size=15, weight="bold"),
        _text(180, 470, ":4000", size=14, mono=True, fill=PORT),
        # host eth0 ↔ outside network, below the host
        _line(180, 482, 180, 530, arrow="arrow-line", both=True),
        _box(60, 530, 240, 70, fill=CARD, stroke=LINE, dash=True),
        _text(180, 558, t["outside"], size=15, weight="bold"),
        _text(180, 584, t["client"], size=14, fill=MUTED),
        # published port: host 4000 → container A 4000, up the left edge
        f'<path d="M 96 464 L 20 464 L 20 225 L 40 225" fill="none" stroke="{PORT}" '
        'stroke-width="3" stroke-dasharray="8 5" marker-end="url(#arrow-port)"/>',
        _text(180, 630, t["publish_flag"], size=16, weight="bold", fill=PORT, mono=True),
        _text(180, 654, t["publish_what"], size=15, weight="bold", fill=PORT),
    ]
    return _svg(lang, 360, 676, t["bridge_title"], t["bridge_desc"], body, fixed_size=False)


def host(lang: str) -> str:
    """(b) host mode: Linux shares the host stack; Docker Desktop's containers share its Linux
    VM's stack, and 4.34+ can opt in to sharing TCP/UDP ports with the PC."""
    t = LABELS[lang]
    body = [
        _text(455, 40, t["host_title"], size=20, weight="bold"),
        # Linux panel
        _text(215, 78, t["linux"], size=17, weight="bold"),
        _box(30, 92, 370, 370, fill=HOST, stroke=LINE),
        _text(50, 120, t["linux_host"], size=15, weight="bold", anchor="start"),
        _box(60, 140, 310, 112, fill=CARD, stroke=INK),
        _text(215, 166, t["engine"], size=14, fill=MUTED),
        _box(85, 178, 260, 60, fill=CONTAINER, stroke=CONTAINER_LINE),
        _text(215, 204, t["host_container"], size=15, weight="bold"),
        _text(215, 226, t["shares"], size=13, fill=MUTED),
        _line(215, 238, 215, 330, stroke=PORT, width=4),
        _text(225, 292, t["no_mapping"], size=14, anchor="start", fill=PORT),
        _box(60, 330, 310, 100, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(215, 362, t["host_stack"], size=14, weight="bold"),
        _text(215, 390, "eth0 · :4000", size=13, mono=True, fill=MUTED),
        _text(215, 414, "= " + t["linux_host"], size=13, fill=MUTED),
        # Windows/macOS panel: Docker Desktop's VM, and the opt-in link to the PC
        _text(665, 78, t["winmac"], size=17, weight="bold"),
        _box(450, 92, 430, 370, fill=HOST, stroke=LINE),
        _text(470, 118, t["winmac_host"], size=15, weight="bold", anchor="start"),
        _box(470, 130, 390, 200, fill=VM, stroke=VM_LINE),
        _text(490, 154, t["vm"], size=15, weight="bold", anchor="start", fill=VM_LINE),
        _box(495, 164, 340, 80, fill=CARD, stroke=INK),
        _text(665, 183, t["engine"], size=13, fill=MUTED),
        _box(520, 192, 290, 44, fill=CONTAINER, stroke=CONTAINER_LINE),
        _text(665, 219, t["host_container"], size=14, weight="bold"),
        _line(665, 244, 665, 258, stroke=PORT, width=4),
        _box(495, 258, 340, 60, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(665, 282, t["vm_stack"], size=14, weight="bold"),
        _text(665, 304, t["vm_note"], size=13, fill=VM_LINE, weight="bold"),
        # opt-in (Docker Desktop 4.34+): dashed, because it is off until turned on
        _line(530, 330, 530, 392, stroke=PORT, width=3, dash=True, arrow="arrow-port",
              both=True),
        _text(546, 356, t["opt_in"], size=13, anchor="start", fill=PORT, weight="bold"),
        _text(546, 376, t["opt_in_what"], size=13, anchor="start", fill=PORT),
        _box(495, 392, 340, 56, fill=CARD, stroke=INK),
        _text(665, 416, t["pc_stack"], size=14, weight="bold"),
        _text(665, 437, t["pc_default"], size=13, fill=MUTED),
    ]
    return _svg(lang, 910, 490, t["host_title"], t["host_desc"], body)


def host_narrow(lang: str) -> str:
    """(b) for a phone: the Linux panel above the Docker Desktop one."""
    t = LABELS[lang]
    body = [
        *_lines(180, 32, t["host_title_lines"], step=24, size=18, weight="bold"),
        # Linux
        _box(12, 76, 336, 272, fill=HOST, stroke=LINE),
        _text(26, 102, t["linux_host"], size=16, weight="bold", anchor="start"),
        _box(28, 114, 304, 100, fill=CARD, stroke=INK),
        _text(180, 136, t["engine"], size=14, fill=MUTED),
        _box(42, 146, 276, 58, fill=CONTAINER, stroke=CONTAINER_LINE),
        _text(180, 170, t["host_container"], size=15, weight="bold"),
        _text(180, 192, t["shares"], size=14, fill=MUTED),
        _line(70, 214, 70, 256, stroke=PORT, width=4),
        _text(84, 241, t["no_mapping"], size=14, anchor="start", fill=PORT),
        _box(28, 256, 304, 78, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(180, 280, t["host_stack"], size=14, weight="bold"),
        _text(180, 302, "eth0 · :4000", size=14, mono=True, fill=MUTED),
        _text(180, 324, "= " + t["linux_host"], size=14, fill=MUTED),
        # Windows / macOS (Docker Desktop)
        _box(12, 364, 336, 366, fill=HOST, stroke=LINE),
        _text(26, 390, t["winmac_host"], size=16, weight="bold", anchor="start"),
        _box(28, 402, 304, 196, fill=VM, stroke=VM_LINE),
        _text(42, 426, t["vm"], size=14, weight="bold", anchor="start", fill=VM_LINE),
        _box(42, 438, 276, 82, fill=CARD, stroke=INK),
        _text(180, 458, t["engine"], size=14, fill=MUTED),
        _box(56, 466, 248, 44, fill=CONTAINER, stroke=CONTAINER_LINE),
        _text(180, 494, t["host_container"], size=15, weight="bold"),
        _line(180, 520, 180, 534, stroke=PORT, width=4),
        _box(42, 534, 276, 54, fill=BRIDGE, stroke=BRIDGE_LINE),
        _text(180, 556, t["vm_stack"], size=14, weight="bold"),
        _text(180, 578, t["vm_note"], size=14, fill=VM_LINE, weight="bold"),
        _line(56, 598, 56, 656, stroke=PORT, width=3, dash=True, arrow="arrow-port",
              both=True),
        _text(70, 622, t["opt_in"], size=14, anchor="start", fill=PORT, weight="bold"),
        _text(70, 644, t["opt_in_what"], size=14, anchor="start", fill=PORT),
        _box(28, 656, 304, 60, fill=CARD, stroke=INK),
        _text(180, 680, t["pc_stack"], size=14, weight="bold"),
        _text(180, 703, t["pc_default"], size=14, fill=MUTED),
    ]
    return _svg(lang, 360, 744, t["host_title"], t["host_desc"], body, fixed_size=False)


DRAWINGS = {"bridge": bridge, "bridge-narrow": bridge_narrow, "host": host,
            "host-narrow": host_narrow}
"""Every file this script writes: ``<name>.<lang>.svg``."""


def main() -> None:
    for lang in LABELS:
        for name, draw in DRAWINGS.items():
            out = HERE / f"{name}.{lang}.svg"
            out.write_text(draw(lang), encoding="utf-8")
            print(out.relative_to(HERE.parent.parent))


if __name__ == "__main__":
    main()
