// Hosted /verif/ page: record a short selfie video, pick an ID photo, POST both to /verif/submit.
(function () {
  "use strict";
  const form = document.getElementById("verif-form");
  if (!form) return;
  // Every text comes from the server's catalogues, in the visitor's language (apps/faces/page_texts.py).
  const T = JSON.parse(document.getElementById("verif-texts").textContent);
  const preview = document.getElementById("preview");
  const recordButton = document.getElementById("record");
  const recordStatus = document.getElementById("record-status");
  const selfieFile = document.getElementById("selfie-file");
  const idPhoto = document.getElementById("id-photo");
  const submit = document.getElementById("submit");
  const status = document.getElementById("status");
  const RECORD_MS = 5000;
  let selfie = null; // Blob or File

  function ready() {
    submit.disabled = !(selfie && idPhoto.files.length);
  }

  function pickType() {
    const types = ["video/webm;codecs=vp8", "video/webm", "video/mp4"];
    return types.find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)) || "";
  }

  recordButton.addEventListener("click", async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: 640, height: 480 }, audio: false });
      preview.srcObject = stream;
      const type = pickType();
      const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      const chunks = [];
      recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      recorder.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        selfie = new Blob(chunks, { type: recorder.mimeType || "video/webm" });
        recordStatus.textContent = T.recorded;
        ready();
      };
      recordStatus.textContent = T.recording;
      recordButton.disabled = true;
      recorder.start();
      setTimeout(() => { recorder.stop(); recordButton.disabled = false; }, RECORD_MS);
    } catch (err) {
      recordStatus.textContent = T.cameraUnavailable;
    }
  });

  selfieFile.addEventListener("change", () => { selfie = selfieFile.files[0] || null; ready(); });
  idPhoto.addEventListener("change", ready);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData();
    for (const name of ["api_key", "user_identifier", "user_email", "user_phone"]) {
      data.append(name, form.elements[name].value);
    }
    const ext = selfie.type && selfie.type.includes("mp4") ? "mp4" : "webm";
    data.append("selfie_video", selfie, selfie.name || `selfie.${ext}`);
    data.append("id_photo", idPhoto.files[0]);
    submit.disabled = true;
    status.className = "";
    status.textContent = T.checking;
    try {
      const response = await fetch(form.dataset.submitUrl, { method: "POST", body: data, credentials: "omit" });
      const body = await response.json();
      if (!response.ok) {
        status.className = "error";
        status.textContent = (body.error && T.errors[body.error.code]) || T.failed;
      } else if (body.result.status === "verified") {
        status.className = "ok";
        status.textContent = T.verified;
      } else {
        status.className = "error";
        status.textContent = T.notVerified;
      }
    } catch (err) {
      status.className = "error";
      status.textContent = T.network;
    }
    ready();
  });
})();
