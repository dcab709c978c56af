// The drive's uploads: files chosen in the picker or dropped on the upload form go
// through tus (/api/v1/drive/uploads) in chunks of 8 MiB, each with its progress bar,
// and resume where they stopped after a cut (tus-js-client remembers the upload's
// address). Without this script the same form posts the file in one request.
import { Upload } from "tus-js-client";

const CHUNK = 8 * 1024 * 1024;

function errorOf(error) {
  try {
    return JSON.parse(error.originalResponse.getBody()).error;
  } catch {
    return error.message;
  }
}

function send(zone, file, list) {
  const item = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", file.name);
  const status = document.createElement("span");
  item.append(label, " ", bar, " ", status);
  list.append(item);
  return new Promise((resolve) => {
    const upload = new Upload(file, {
      endpoint: zone.dataset.endpoint,
      chunkSize: CHUNK,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      removeFingerprintOnSuccess: true,
      metadata: { filename: file.name, folder: zone.dataset.folder },
      headers: { "X-CSRF-Token": document.body.dataset.csrf || "" },
      onProgress(sent, total) {
        bar.value = total ? Math.floor((sent / total) * 100) : 100;
      },
      onShouldRetry(error, attempt) {
        const code = error.originalResponse ? error.originalResponse.getStatus() : 0;
        const retry = code === 0 || code === 409 || code === 423 || code >= 500;
        if (retry) status.textContent = list.dataset.labelRetry;
        return retry && code !== 507 && attempt < 5;
      },
      onSuccess() {
        bar.value = 100;
        status.textContent = list.dataset.labelDone;
        resolve(true);
      },
      onError(error) {
        status.textContent = `${list.dataset.labelFailed}: ${errorOf(error)}`;
        status.setAttribute("role", "alert");
        resolve(false);
      },
    });
    upload.findPreviousUploads().then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  });
}

async function sendAll(zone, files) {
  const list = zone.querySelector("[data-drive-progress]");
  const results = [];
  for (const file of files) results.push(await send(zone, file, list));
  if (results.length && results.every(Boolean)) {
    window.location.assign(`${window.location.pathname}?done=drive_uploaded`);
  }
}

for (const zone of document.querySelectorAll("[data-drive-upload]")) {
  const input = zone.querySelector("input[type=file]");
  input.multiple = true;
  zone.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.files.length) sendAll(zone, [...input.files]);
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("drive-drop-over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("drive-drop-over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drive-drop-over");
    if (event.dataTransfer && event.dataTransfer.files.length) sendAll(zone, [...event.dataTransfer.files]);
  });
}
