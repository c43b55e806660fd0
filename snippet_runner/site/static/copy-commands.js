/* Copy only the commands of a console transcript.
 *
 * Material's copy button copies `closest("[data-copy]").dataset.copy` when present, else the
 * code's innerText. For shell blocks written as transcripts (a line starting with "$ " is a
 * command, a trailing "\" continues it, other lines are output or "#" comments) this script
 * stores the commands alone in data-copy. Blocks already marked up by the snippet-runner
 * renderer (sr-* classes or their own data-copy) are left alone: the CSS hides their marks.
 * It also opens and closes the details of the renderer's marks on a tap (see toggleMark).
 */
(function () {
  "use strict";
  var SHELL = /\blanguage-(bash|console|sh|shell|shell-session|shellsession|zsh)\b/;

  function commands(text) {
    var out = [];
    var continuing = false;
    var sawPrompt = false;
    text.replace(/\r\n?/g, "\n").split("\n").forEach(function (line) {
      if (continuing) {
        out.push(line);
      } else if (/^\$ /.test(line) || line === "$") {
        sawPrompt = true;
        out.push(line.slice(2));
      } else {
        return; /* output or a comment */
      }
      continuing = /\\$/.test(line);
    });
    return sawPrompt ? out.join("\n") : null;
  }

  function mark(root) {
    var blocks = root.querySelectorAll(".highlight");
    Array.prototype.forEach.call(blocks, function (block) {
      if (!SHELL.test(block.className) || block.closest("[data-copy]")) return;
      var code = block.querySelector("pre > code");
      if (!code || code.querySelector(".sr-prompt, .sr-output")) return;
      var copy = commands(code.textContent || "");
      if (copy !== null) block.setAttribute("data-copy", copy);
    });
  }

  /* A block's mark shows its details on hover and keyboard focus (CSS); a tap or click toggles
   * them too, for touch browsers that neither hover nor focus a tapped button. One document
   * listener, so marks on pages loaded by instant navigation work as well. */
  function toggleMark(event) {
    var target = event.target;
    var badge = target && target.closest ? target.closest(".sr-mark__badge") : null;
    Array.prototype.forEach.call(document.querySelectorAll(".sr-mark--open"), function (open) {
      if (!badge || open !== badge.parentNode) setOpen(open, false);
    });
    if (badge && badge.tagName === "BUTTON") {
      setOpen(badge.parentNode, !badge.parentNode.classList.contains("sr-mark--open"));
    }
  }

  function setOpen(mark, open) {
    mark.classList.toggle("sr-mark--open", open);
    var badge = mark.querySelector("button.sr-mark__badge");
    if (badge) badge.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", toggleMark);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") toggleMark({ target: null });
  });

  /* Material re-renders the content on instant navigation and announces it on document$. */
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(function () { mark(document); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { mark(document); });
  } else {
    mark(document);
  }
})();
