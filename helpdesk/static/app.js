// assist help desk: local times, a request list that follows the gateway (and may notify), and
// confirmations. No framework; the page works without this script (UTC times, a meta refresh,
// no confirmation).
(function () {
  'use strict';

  var format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  // localize rewrites every <time data-local> from its UTC datetime to the technician's time zone.
  function localize(root) {
    root.querySelectorAll('time[data-local]').forEach(function (el) {
      var iso = el.getAttribute('datetime');
      var d = new Date(iso);
      if (!iso || isNaN(d.getTime())) {
        return;
      }
      el.textContent = format.format(d);
      el.title = iso + ' (UTC); shown in ' + zone;
    });
  }

  // refresh replaces the #live element with the server's current one when the gateway says a
  // request changed (server-sent events from /requests/events), and every ten seconds besides.
  // If the answer is not the same page (the session ended), the whole page reloads and shows
  // sign-in. The X-Assist-Live header keeps a flash message for the page it was meant for.
  function refresh(live) {
    var busy = false, again = false;
    function load() {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      fetch(location.href, { credentials: 'same-origin', cache: 'no-store', headers: { 'X-Assist-Live': '1' } })
        .then(function (res) {
          if (!res.ok || res.redirected) {
            throw new Error('reload');
          }
          return res.text();
        })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
          if (!next) {
            throw new Error('reload');
          }
          localize(next);
          live.replaceWith(next);
          live = next;
          busy = false;
          if (again) {
            again = false;
            load();
          }
        })
        .catch(function () {
          location.reload();
        });
    }
    setInterval(load, 10000);
    if (window.EventSource) {
      var events = new EventSource('/requests/events');
      // The body says whether the list follows the gateway (for the technician's tools and tests).
      events.onopen = function () {
        document.body.dataset.events = 'open';
      };
      events.onerror = function () {
        document.body.dataset.events = 'reconnecting';
      };
      events.addEventListener('request', function (ev) {
        load();
        notify(JSON.parse(ev.data));
      });
    }
  }

  // notify raises a browser notification for a new request, once the technician allowed them
  // with the page's button. Notifications show plain text: nothing in them is markup.
  function notify(change) {
    if (change.change !== 'request.filed' || !window.Notification || Notification.permission !== 'granted') {
      return;
    }
    var n = new Notification('New assistance request ' + change.code, {
      body: change.full_name + (change.summary ? ': ' + change.summary : ''),
      tag: change.code
    });
    n.onclick = function () {
      window.focus();
      location.href = '/requests/' + encodeURIComponent(change.code);
    };
  }

  // notifyButton asks the browser for permission to notify, when the technician presses it.
  function notifyButton(button) {
    if (!window.Notification || Notification.permission === 'denied') {
      return;
    }
    function show() {
      button.hidden = Notification.permission === 'granted';
    }
    show();
    button.addEventListener('click', function () {
      Notification.requestPermission().then(show);
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    localize(document);
    var live = document.getElementById('live');
    if (live && live.hasAttribute('data-live')) {
      refresh(live);
    }
    var button = document.getElementById('notify');
    if (button) {
      notifyButton(button);
    }
    document.querySelectorAll('form[data-confirm]').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        if (!window.confirm(form.getAttribute('data-confirm'))) {
          ev.preventDefault();
        }
      });
    });
  });
})();
