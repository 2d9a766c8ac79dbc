// Dataset upload with a progress bar: the same POST as the plain form, sent by XHR so we can watch it.
(function () {
  const form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest) return;
  const bar = document.getElementById("upload-progress");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = function () {
      if (xhr.status < 400 && xhr.responseURL) { window.location = xhr.responseURL; return; }
      document.open(); document.write(xhr.responseText); document.close();  // the page with the errors
    };
    xhr.onerror = () => { bar.hidden = true; alert("The upload failed: the server could not be reached."); };
    xhr.send(new FormData(form));
  });
})();
