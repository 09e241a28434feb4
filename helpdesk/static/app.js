// assist help desk: local times, a self-refreshing request list, and confirmations. No framework;
// the page works without this script (UTC times, a meta refresh, no confirmation).
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

  // refresh replaces the #live element with the server's current one every ten seconds. If the
  // answer is not the same page (the session ended), the whole page reloads and shows sign-in.
  function refresh(live) {
    setInterval(function () {
      fetch(location.href, { credentials: 'same-origin', cache: 'no-store' })
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
        })
        .catch(function () {
          location.reload();
        });
    }, 10000);
  }

  document.addEventListener('DOMContentLoaded', function () {
    localize(document);
    var live = document.getElementById('live');
    if (live && live.hasAttribute('data-live')) {
      refresh(live);
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
