'use strict';
// "Your requests from this computer": the tickets this browser filed, each with its status and
// the help desk's public replies, and a way to add a message or a screenshot. The function
// keeps nothing: this browser keeps each ticket's follow-up token, and BMS holds the rest.
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var box = $('requests'), list = $('request-list');
  var key;
  try { key = localStorage.getItem('kb.key'); } catch (e) { key = null; }
  if (!box || !key) { return; }
  var base = location.pathname.replace(/help\/?$/, '').replace(/\/?$/, '/');
  var STORE = 'kb.requests', MAX = 20;

  function kept() {
    try { return JSON.parse(localStorage.getItem(STORE) || '[]') || []; } catch (e) { return []; }
  }
  function keep(items) {
    try { localStorage.setItem(STORE, JSON.stringify(items.slice(0, MAX))); } catch (e) { /* private mode */ }
  }
  function call(method, path, token, body, idempotency) {
    return new Promise(function (resolve) {
      var x = new XMLHttpRequest();
      x.open(method, base + path);
      x.setRequestHeader('X-Api-Key', key);
      x.setRequestHeader('X-Follow-Up', token);
      if (body) { x.setRequestHeader('Content-Type', 'application/json'); }
      if (idempotency) { x.setRequestHeader('Idempotency-Key', idempotency); }
      x.timeout = 60000;
      x.onload = function () {
        var data = null;
        try { data = JSON.parse(x.responseText); } catch (e) { data = null; }
        resolve({ status: x.status, data: data });
      };
      x.onerror = x.ontimeout = function () { resolve({ status: 0, data: null }); };
      x.send(body || null);
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleString();
  }

  // A press parked while BMS was down: its claim becomes the ticket once the replay files it.
  function parkedRow(item) {
    var li = el('li', 'request');
    li.id = 'request-' + item.reference;
    var state = el('span', 'request-status', 'Waiting to be filed');
    var head = el('p', 'request-head');
    head.append(el('strong', '', 'Reference ' + item.reference), ' ', state);
    li.append(head);
    call('GET', 'tickets/parked', item.claim).then(function (r) {
      var items = kept();
      if (r.status === 200 && r.data && r.data.ticketId) {
        var filed = { ticketId: r.data.ticketId, ticketNumber: r.data.ticketNumber, followUp: r.data.followUp };
        keep(items.map(function (k) { return k.reference === item.reference ? filed : k; }));
        // Only this request changed: the others are not read again.
        li.replaceWith(row(filed));
      } else if (r.status === 404) {
        keep(items.filter(function (k) { return k.reference !== item.reference; }));
        li.remove();
        box.hidden = !list.children.length;
      }
    });
    return li;
  }

  // One request: its number, title and status, the replies, and the form to add to it. Its
  // status is read as it is made; the caller puts it in the list.
  function row(item) {
    if (item.claim) { return parkedRow(item); }
    var li = el('li', 'request');
    li.id = 'request-' + item.ticketId;
    var head = el('p', 'request-head');
    head.append(el('strong', 'ticket', 'Ticket ' + (item.ticketNumber || item.ticketId)));
    var state = el('span', 'request-status', 'Checking…');
    head.append(' ', state);
    var title = el('p', 'hint', item.title || '');
    var replies = el('ul', 'replies');
    replies.setAttribute('aria-label', 'Replies');
    li.append(head, title, replies, addForm(item));
    refresh(item, li);
    return li;
  }

  function refresh(item, li) {
    var state = li.querySelector('.request-status');
    return call('GET', 'tickets/' + item.ticketId, item.followUp).then(function (r) {
      if (r.status === 404) {
        // The token has expired, or the ticket is gone: nothing more can be read.
        keep(kept().filter(function (k) { return k.ticketId !== item.ticketId; }));
        li.remove();
        box.hidden = !list.children.length;
        return;
      }
      if (r.status !== 200 || !r.data) {
        state.textContent = 'Status unknown right now';
        return;
      }
      state.textContent = 'Status: ' + (r.data.status || 'unknown');
      if (r.data.title) { li.querySelector('.hint').textContent = r.data.title; }
      var replies = li.querySelector('.replies');
      replies.textContent = '';
      (r.data.replies || []).forEach(function (reply) {
        var entry = el('li', reply.from === 'you' ? 'reply you' : 'reply');
        entry.append(el('strong', '', reply.from === 'you' ? 'You' : 'Help desk'),
          el('span', 'hint', ' ' + when(reply.at)), el('p', '', reply.text));
        replies.append(entry);
      });
    });
  }

  // A message or a pasted screenshot, added to the ticket as a note the help desk sees.
  function addForm(item) {
    var wrap = el('div', 'add');
    var open = el('button', 'quiet', 'Add a message or screenshot');
    open.type = 'button';
    var form = el('div', 'add-form');
    form.hidden = true;
    var label = el('label', '', 'What do you want to add?');
    var text = el('textarea');
    text.id = 'add-' + item.ticketId;
    label.htmlFor = text.id;
    text.rows = 3;
    var hint = el('p', 'hint', 'Paste a screenshot here with Ctrl+V.');
    var pics = el('ul', 'files');
    var send = el('button', '', 'Add to ticket');
    send.type = 'button';
    var said = el('p', 'status');
    said.setAttribute('role', 'status');
    form.append(label, text, hint, pics, send, said);
    wrap.append(open, form);
    var shots = [], attempt = null;
    open.addEventListener('click', function () {
      form.hidden = !form.hidden;
      if (!form.hidden) { text.focus(); }
    });
    text.addEventListener('paste', function (e) {
      var files = Array.prototype.slice.call((e.clipboardData && e.clipboardData.files) || []);
      if (!files.length) { return; }
      // This screenshot is for this ticket, not for a new message.
      e.preventDefault();
      e.stopPropagation();
      files.forEach(function (file) {
        var r = new FileReader();
        r.onload = function () {
          var name = 'screenshot-' + (shots.length + 1) + '.png';
          shots.push({ name: name, contentType: file.type || 'image/png', data: String(r.result).split(',')[1] || '' });
          pics.append(el('li', '', name));
        };
        r.readAsDataURL(file);
      });
    });
    send.addEventListener('click', function () {
      var message = text.value.trim();
      if (!message && !shots.length) {
        said.className = 'status err';
        said.textContent = 'Type a message or paste a screenshot first.';
        return;
      }
      var body = { message: message };
      if (shots.length) { body.attachments = shots; }
      var json = JSON.stringify(body);
      // The same addition sent again (a lost answer) is added once.
      if (!attempt || attempt.body !== json) { attempt = { id: String(Date.now()) + Math.random(), body: json }; }
      send.disabled = true;
      said.className = 'status';
      said.textContent = 'Adding…';
      call('POST', 'tickets/' + item.ticketId + '/notes', item.followUp, json, attempt.id).then(function (r) {
        send.disabled = false;
        if (r.status === 201 || r.status === 200) {
          said.className = 'status ok';
          said.textContent = 'Added to ticket ' + (item.ticketNumber || item.ticketId) + '.';
          text.value = '';
          shots = [];
          attempt = null;
          pics.textContent = '';
          refresh(item, $('request-' + item.ticketId));
        } else {
          said.className = 'status err';
          said.textContent = r.status === 0 ? 'The help desk could not be reached: try again, it will be added once.'
            : 'Not added' + (r.data && r.data.detail ? ': ' + r.data.detail : '.');
        }
      });
    });
    return wrap;
  }

  function showAll() {
    list.textContent = '';
    var items = kept();
    box.hidden = !items.length;
    items.forEach(function (item) { list.append(row(item)); });
  }
  $('requests-refresh').addEventListener('click', showAll);
  // The help page files a ticket (or parks a press): keep its token (or claim), newest first.
  document.addEventListener('kb:filed', function (e) {
    var t = e.detail;
    if (!t || !t.followUp || !(t.ticketId || t.reference)) { return; }
    var items = kept().filter(function (k) {
      return t.ticketId ? k.ticketId !== t.ticketId : k.reference !== t.reference;
    });
    var item = t.ticketId ? { ticketId: t.ticketId, ticketNumber: t.ticketNumber, followUp: t.followUp }
      : { reference: t.reference, claim: t.followUp };
    items.unshift(item);
    keep(items);
    // The new request alone is read; the others on the list stand as they were.
    var old = $('request-' + (t.ticketId || t.reference));
    if (old) { old.remove(); }
    list.prepend(row(item));
    while (list.children.length > MAX) { list.lastChild.remove(); }
    box.hidden = false;
  });
  showAll();
}());
