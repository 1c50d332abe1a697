'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var form = $('form'), sendButton = $('send'), status = $('status'), progress = $('progress');
  // BUTTON_WEB_PHONE, when the page shows it: repeated where the page cannot help.
  var phone = $('phone-line') ? $('phone-line').dataset.phone : '';
  var limits = {
    files: Number(form.dataset.maxFiles),
    fileBytes: Number(form.dataset.maxFileBytes),
    bodyBytes: Number(form.dataset.maxBodyBytes)
  };
  var store = {
    get: function (k) { try { return localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };
  // The API sits next to this page, under whatever stage or base path the page has.
  var base = location.pathname.replace(/help\/?$/, '').replace(/\/?$/, '/');

  // The link's fragment (#key=…&email=…) never reaches a server. `+` stays a `+` (e-mails hold
  // them); spaces come percent-encoded.
  function fragment() {
    var out = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      if (!part) { return; }
      var i = part.indexOf('=');
      var k = i < 0 ? part : part.slice(0, i), v = i < 0 ? '' : part.slice(i + 1);
      try { out[decodeURIComponent(k)] = decodeURIComponent(v); } catch (e) { /* skip it */ }
    });
    return out;
  }

  var frag = fragment();
  var machine = {};
  // A key the link carries that differs from the one kept here: asked about, not kept yet.
  var offered = null;
  if (location.hash.length > 1) {
    var linked = (frag.key || '').trim(), kept = store.get('kb.key');
    if (linked && kept && linked !== kept) {
      offered = linked;
    } else if (linked) {
      store.set('kb.key', linked);
    }
    ['hostname', 'ip', 'mac'].forEach(function (f) {
      if (frag[f]) { machine[f] = frag[f].trim().slice(0, 255); }
    });
    try { sessionStorage.setItem('kb.machine', JSON.stringify(machine)); } catch (e) { /* fine */ }
    // Out of the address bar, the key is out of screenshots and shared screens.
    history.replaceState(null, '', location.pathname + location.search);
  } else {
    try { machine = JSON.parse(sessionStorage.getItem('kb.machine') || '{}') || {}; } catch (e) { machine = {}; }
  }
  var key = store.get('kb.key');
  if (!key) {
    $('nokey').hidden = false;
    return;
  }
  if (offered) {
    askAboutKey(offered);
  } else {
    form.hidden = false;
  }
  $('email').value = frag.email || store.get('kb.email') || '';
  $('name').value = frag.name || store.get('kb.name') || '';

  // Anyone can send a link with a key of their own: one that would replace the key kept here
  // is used only if the user says so, and until then the form stays closed. The question is
  // part of the page, since a kiosk or a headless browser may block window.confirm.
  function askAboutKey(newKey) {
    var box = $('keychange');
    function chosen(useNew) {
      if (useNew) {
        store.set('kb.key', newKey);
        key = newKey;
      }
      box.hidden = true;
      form.hidden = false;
      $($('email').value ? 'message' : 'email').focus();
    }
    $('keep-key').addEventListener('click', function () { chosen(false); });
    $('use-new-key').addEventListener('click', function () { chosen(true); });
    box.hidden = false;
    $('keep-key').focus();
  }

  var labels = { hostname: 'Computer name', ip: 'IP address', mac: 'MAC address' };
  Object.keys(labels).forEach(function (f) {
    if (!machine[f]) { return; }
    var dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = labels[f];
    dd.textContent = machine[f];
    dd.id = 'machine-' + f;
    $('machine').append(dt, dd);
    $('machine-box').hidden = false;
  });

  function mb(bytes) {
    return bytes < 1024 * 1024 ? Math.max(1, Math.round(bytes / 1024)) + ' KB'
      : (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '') + ' MB';
  }
  function encoded(bytes) { return Math.ceil(bytes / 3) * 4; }

  function say(kind, lead, detail) {
    status.className = 'status' + (kind ? ' ' + kind : '');
    status.textContent = '';
    if (lead) {
      var strong = document.createElement('strong');
      strong.textContent = lead;
      status.append(strong);
    }
    if (detail) {
      var span = document.createElement('span');
      span.textContent = detail;
      status.append(span);
    }
  }

  // Files: picked or pasted, checked against the API's limits before anything is sent.
  var files = [], pasted = 0;
  function used() {
    return files.reduce(function (n, f) { return n + encoded(f.file.size) + f.name.length + 64; }, 0);
  }
  function addFiles(list, fromPaste) {
    var refused = [];
    Array.prototype.forEach.call(list, function (file) {
      var name = file.name;
      if (fromPaste || !name || name === 'image.png') {
        pasted += 1;
        name = 'screenshot-' + pasted + '.' + ((file.type.split('/')[1] || 'png').replace(/\W.*$/, ''));
      }
      if (files.length >= limits.files) {
        refused.push(name + ': at most ' + limits.files + ' files can be sent');
      } else if (file.size > limits.fileBytes) {
        refused.push(name + ' is ' + mb(file.size) + ': each file can be at most ' + mb(limits.fileBytes));
      } else if (used() + encoded(file.size) > limits.bodyBytes - 65536) {
        refused.push(name + ': together the files would be more than the ' + mb(limits.bodyBytes) + ' a message can carry');
      } else {
        files.push({ file: file, name: name, url: file.type.indexOf('image/') === 0 ? URL.createObjectURL(file) : null });
      }
    });
    showFiles();
    if (refused.length) {
      say('err', 'Not added:', ' ' + refused.join('; ') + '.');
    } else if (fromPaste) {
      say('', 'Screenshot added.', '');
    }
  }
  function showFiles() {
    var ul = $('filelist');
    ul.textContent = '';
    files.forEach(function (f, i) {
      var li = document.createElement('li');
      if (f.url) {
        var img = document.createElement('img');
        img.src = f.url;
        img.alt = '';
        li.append(img);
      }
      var span = document.createElement('span');
      span.textContent = f.name + ' (' + mb(f.file.size) + ')';
      var remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'quiet';
      remove.textContent = 'Remove';
      remove.setAttribute('aria-label', 'Remove ' + f.name);
      remove.addEventListener('click', function () {
        if (f.url) { URL.revokeObjectURL(f.url); }
        files.splice(i, 1);
        showFiles();
        $('files').focus();
      });
      li.append(span, remove);
      ul.append(li);
    });
    $('usage').textContent = files.length
      ? files.length + ' of ' + limits.files + ' files, ' + mb(used()) + ' of the ' + mb(limits.bodyBytes) + ' a message can carry'
      : '';
  }
  // The launcher's diagnostics (`diag`, base64url UTF-8 text): a file the user sees and may
  // remove, and one summary line in the ticket's details while it is attached.
  function diagnostics(b64) {
    var text;
    try {
      var bin = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
      text = new TextDecoder().decode(Uint8Array.from(bin, function (c) { return c.charCodeAt(0); }));
    } catch (e) { return null; }
    var said = {};
    text.split('\n').forEach(function (line) {
      var m = /^(OS|Uptime|Disk): (.+)$/.exec(line);
      if (m) { said[m[1]] = m[2].slice(0, 200); }
    });
    var parts = [said.OS, said.Uptime && 'up ' + said.Uptime, said.Disk].filter(Boolean);
    return {
      file: new File([text], 'diagnostics.txt', { type: 'text/plain' }),
      summary: 'Diagnostics: ' + (parts.length ? parts.join('; ') : 'see diagnostics.txt') + ' (diagnostics.txt attached)'
    };
  }
  var diag = frag.diag ? diagnostics(frag.diag) : null;
  if (diag) { addFiles([diag.file], false); }
  // The launcher put a screenshot on the clipboard: say how to add it.
  function clipboardHint() {
    var p = document.createElement('p');
    p.id = 'clipboard-hint';
    p.className = 'status ok';
    p.textContent = 'A picture of your screen is on the clipboard: press Ctrl+V to add it to your message.';
    $('limits').before(p);
    document.addEventListener('paste', function () { p.remove(); }, { once: true });
  }
  if (frag.screenshot === '1') { clipboardHint(); }
  $('files').addEventListener('change', function (e) {
    addFiles(e.target.files, false);
    e.target.value = '';
  });
  document.addEventListener('paste', function (e) {
    var dt = e.clipboardData;
    if (!dt) { return; }
    var got = Array.prototype.slice.call(dt.files || []);
    if (!got.length && dt.items) {
      Array.prototype.forEach.call(dt.items, function (item) {
        var f = item.kind === 'file' && item.getAsFile();
        if (f) { got.push(f); }
      });
    }
    if (!got.length) { return; } // text: let it go into the field
    e.preventDefault();
    addFiles(got, true);
  });

  function fieldError(id, text) {
    var input = $(id), err = $(id + '-err');
    input.setAttribute('aria-invalid', text ? 'true' : 'false');
    err.textContent = text;
    err.hidden = !text;
    return text ? input : null;
  }
  function validate() {
    var email = $('email').value.trim(), message = $('message').value.trim();
    var bad = [
      fieldError('email', !email ? 'Enter your e-mail address, so the help desk can answer you.'
        : /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? '' : 'This does not look like an e-mail address (name@example.com).'),
      fieldError('message', message ? '' : 'Tell the help desk what is wrong.')
    ].filter(Boolean);
    if (bad.length) { bad[0].focus(); }
    return bad.length === 0;
  }

  function readBase64(file) {
    return new Promise(function (resolve, reject) {
      var r = new FileReader();
      r.onload = function () { resolve(String(r.result).split(',')[1] || ''); };
      r.onerror = function () { reject(new Error('could not read ' + file.name)); };
      r.readAsDataURL(file);
    });
  }
  function body() {
    var b = { email: $('email').value.trim(), message: $('message').value.trim() };
    var name = $('name').value.trim();
    if (name) { b.name = name; }
    var ticked = Array.prototype.map.call(form.querySelectorAll('input[name=selections]:checked'), function (c) { return c.value; });
    if (ticked.length) { b.selections = ticked; }
    Object.keys(machine).forEach(function (f) { b[f] = machine[f]; });
    if (diag && files.some(function (f) { return f.file === diag.file; })) { b.append = diag.summary; }
    return Promise.all(files.map(function (f) { return readBase64(f.file); })).then(function (data) {
      if (data.length) {
        b.attachments = files.map(function (f, i) {
          return { name: f.name, contentType: f.file.type || 'application/octet-stream', data: data[i] };
        });
      }
      return JSON.stringify(b);
    });
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function post(attempt) {
    return new Promise(function (resolve) {
      var x = new XMLHttpRequest();
      x.open('POST', base + 'tickets');
      x.setRequestHeader('Content-Type', 'application/json');
      x.setRequestHeader('X-Api-Key', key);
      x.setRequestHeader('Idempotency-Key', attempt.id);
      x.timeout = 60000;
      x.upload.onprogress = function (e) {
        if (e.lengthComputable) { progress.value = e.loaded / e.total; }
      };
      x.onload = function () { resolve({ status: x.status, text: x.responseText }); };
      x.onerror = function () { resolve({ status: 0 }); };
      x.ontimeout = function () { resolve({ status: -1 }); };
      x.send(attempt.body);
    });
  }

  function sent() {
    store.set('kb.email', $('email').value.trim());
    store.set('kb.name', $('name').value.trim());
    $('message').value = '';
    form.querySelectorAll('input[name=selections]').forEach(function (c) { c.checked = false; });
    files.forEach(function (f) { if (f.url) { URL.revokeObjectURL(f.url); } });
    files = [];
    showFiles();
    attempt = null;
  }
  function answer(r) {
    var data = null;
    try { data = JSON.parse(r.text); } catch (e) { data = null; }
    if ((r.status === 201 || r.status === 200) && data && data.ticketNumber) {
      sent();
      say('ok', 'Thank you: the help desk has your message.', '');
      var t = document.createElement('span');
      t.className = 'ticket';
      t.id = 'ticket-number';
      t.textContent = 'Ticket ' + data.ticketNumber;
      status.append(t);
      if (data.duplicate) { status.append(document.createTextNode(' (it had arrived already, and was filed once)')); }
      // "Your requests" keeps its token, to show the status and the replies.
      document.dispatchEvent(new CustomEvent('kb:filed', { detail: data }));
    } else if (r.status === 202 && data) {
      sent();
      say('ok', 'Your message is saved and will reach the help desk shortly.',
        (data.message ? data.message + ' ' : '') + (data.reference ? 'Reference: ' + data.reference + '. ' : '') +
        (data.followUp ? 'It will appear under "Your requests" once it is filed.' : ''));
      document.dispatchEvent(new CustomEvent('kb:filed', { detail: data }));
    } else if (r.status === 0 || r.status === -1) {
      say('err', 'The help desk could not be reached.',
        ' Check your internet connection, then press Send again: it will not be filed twice.');
    } else {
      var detail = data && data.detail ? ' ' + data.detail : ' (the answer was ' + r.status + ')';
      if (r.status === 401) {
        // The server's words are for a technician; the user gets what to do.
        say('err', 'This help-desk button is not set up for this network or this key.',
          ' Ask your IT provider for a new help-desk link' + (phone ? ', or call the help desk: ' + phone + '.' : '.'));
        return;
      }
      var lead = r.status === 422 ? 'The help desk did not accept this message:'
        : r.status >= 500 ? 'Your message could not be filed right now. Try again in a few minutes: pressing Send again will not file it twice.'
        : 'Your message was not sent:';
      say('err', lead, detail);
    }
  }

  // One Idempotency-Key per submission: a second press of Send, or a resend of the same
  // message after an error, can never file it twice.
  var attempt = null, sending = false;
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (sending || !validate()) { return; }
    sending = true;
    sendButton.disabled = true;
    say('', 'Sending…', '');
    progress.value = 0;
    progress.hidden = false;
    body().then(function (text) {
      if (text.length > limits.bodyBytes) {
        return { status: 413, text: JSON.stringify({ detail: 'the message and files are ' + mb(text.length) + ', more than the ' + mb(limits.bodyBytes) + ' that can be sent: remove a file' }) };
      }
      if (!attempt || attempt.body !== text) { attempt = { id: uuid(), body: text }; }
      return post(attempt);
    }).then(answer, function (err) {
      say('err', 'Your message was not sent:', ' ' + err.message);
    }).then(function () {
      sending = false;
      sendButton.disabled = false;
      progress.hidden = true;
      status.focus();
    });
  });
}());
