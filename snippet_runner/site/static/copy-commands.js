/* Copy only the commands of a console transcript.
 *
 * Material's copy button copies `closest("[data-copy]").dataset.copy` when present, else the
 * code's innerText. For shell blocks written as transcripts (a line starting with "$ " is a
 * command, a trailing "\" continues it, other lines are output or "#" comments) this script
 * stores the commands alone in data-copy. Blocks already marked up by the snippet-runner
 * renderer (sr-* classes or their own data-copy) are left alone: the CSS hides their marks.
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

  /* Material re-renders the content on instant navigation and announces it on document$. */
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(function () { mark(document); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { mark(document); });
  } else {
    mark(document);
  }
})();
