/* A problem page of a known session (expired, already used, opened with an expired token) inside an
   integrator's iframe: tell the embedder (the Web SDK, docs/sdk.md), addressed to each of the account's
   allowed origins only. */
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  if (!window.parent || window.parent === window) { return; }
  var codes = { expired: ["session", "sessionExpired", "This verification has expired."],
                used: ["session", "sessionUsed", "This verification is already finished."],
                tokenExpired: ["session", "tokenExpired", "The access token has expired; the session is still open."] };
  var error = codes[boot.kind];
  if (!error) { return; }
  (boot.embedOrigins || []).forEach(function (origin) {
    window.parent.postMessage({ source: "liveproof", type: "error", verificationSessionId: boot.sessionId,
      operation: error[0], code: error[1], message: error[2] }, origin);
  });
})();
