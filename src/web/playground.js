'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var status = $('status');
  var base = location.pathname.replace(/playground\/?$/, '').replace(/\/?$/, '/');
  var store = {
    get: function (k) { try { return localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };
  var m = /(?:^#|&)key=([^&]*)/.exec(location.hash);
  if (m) {
    try { store.set('kb.operatorKey', decodeURIComponent(m[1]).trim()); } catch (e) { /* skip */ }
    history.replaceState(null, '', location.pathname + location.search);
  }
  $('key').value = store.get('kb.operatorKey') || '';
  $('key').addEventListener('change', function () { store.set('kb.operatorKey', $('key').value.trim()); });

  function say(kind, text) {
    status.className = 'status' + (kind ? ' ' + kind : '');
    status.textContent = text;
  }
  function item(list, text, cls) {
    var li = document.createElement('li');
    li.textContent = text;
    if (cls) { li.className = cls; }
    list.append(li);
  }
  function show(value) { return value === undefined ? '(not set)' : JSON.stringify(value); }

  function render(r, tried, packing) {
    $('result').hidden = false;
    var report = $('report');
    report.textContent = '';
    (r.report || []).forEach(function (line) {
      item(report, line, /^error: /.test(line) ? 'error' : /^warning: /.test(line) ? 'warning' : '');
    });
    $('trybox').hidden = !(tried && r.after);
    if (tried && r.after) {
      $('verdict').textContent = r.rejected
        ? 'Rejected by rules[' + r.rejected.rule + ']: the button gets 422 with "' + r.rejected.message + '", and no ticket is filed.'
        : 'Not rejected: a ticket would be filed with the values below.';
      $('matched').textContent = 'Rules that matched: ' + (r.matched.length
        ? r.matched.map(function (i) { return 'rules[' + i + ']'; }).join(', ') : 'none');
      var runtime = $('runtime');
      runtime.textContent = '';
      (r.runtimeErrors || []).forEach(function (e) { item(runtime, e, 'error'); });
      var tbody = $('vars');
      tbody.textContent = '';
      var names = Object.keys(Object.assign({}, r.before, r.after)).sort();
      names.forEach(function (name) {
        var tr = document.createElement('tr');
        var changed = show(r.before[name]) !== show(r.after[name]);
        if (changed) { tr.className = 'changed'; }
        [name + (changed ? ' (changed)' : ''), show(r.before[name]), show(r.after[name])].forEach(function (text, i) {
          var cell = document.createElement(i ? 'td' : 'th');
          if (!i) { cell.scope = 'row'; }
          cell.textContent = text;
          tr.append(cell);
        });
        tbody.append(tr);
      });
    }
    $('packbox').hidden = !(packing && r.size && r.size.packedDocument);
    if (packing && r.size && r.size.packedDocument) {
      $('packsize').textContent = r.size.minified + ' bytes of minified JSON, ' + r.size.packed +
        ' bytes packed: as BUTTON_RULES=<packed> it takes ' + r.size.variable + ' of the 4096 bytes Lambda allows for all environment variables together.';
      $('packed').value = r.size.packedDocument;
    }
  }

  var busy = false;
  function run(tried, packing) {
    if (busy) { return; }
    var body = { rules: $('rules').value };
    if (tried) {
      try {
        body.press = JSON.parse($('press').value);
      } catch (e) {
        say('err', 'The sample press is not JSON: ' + e.message);
        $('press').focus();
        return;
      }
    }
    var key = $('key').value.trim();
    if (!key) {
      say('err', 'Enter the operator key first.');
      $('key').focus();
      return;
    }
    store.set('kb.operatorKey', key);
    busy = true;
    say('', tried ? 'Trying…' : 'Checking…');
    fetch(base + 'rules/try', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Api-Key': key },
      body: JSON.stringify(body),
      cache: 'no-store'
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { data = null; }
        if (res.status !== 200 || !data) {
          say('err', (res.status === 401 ? 'The operator key was not accepted. ' : 'Not checked: ') +
            (data && data.detail ? data.detail : 'the function answered ' + res.status));
          return;
        }
        var errors = (data.errors || []).length;
        say(errors ? 'err' : 'ok', errors
          ? errors + ' problem' + (errors === 1 ? '' : 's') + ' found: see below.'
          : tried ? 'The document is fine; the rules ran on the sample press.' : 'The document is fine.');
        render(data, tried, packing);
      });
    }, function () {
      say('err', 'The function could not be reached: check the connection and try again.');
    }).then(function () { busy = false; });
  }
  $('check').addEventListener('click', function () { run(false, false); });
  $('try').addEventListener('click', function () { run(true, false); });
  $('pack').addEventListener('click', function () { run(false, true); });
}());
