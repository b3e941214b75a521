// Twofold's only script: it asks the browser for a security key or passkey on the pages
// that offer one, and posts the key's answer in the form's hidden "answer" field. The
// options (with the challenge Twofold handed out) are in the form's data-options
// attribute. Served from Twofold itself, with SimpleWebAuthn's browser library, and
// allowed only on those pages; every other page runs no script at all.
/* global window, document */
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  var forms = document.querySelectorAll('form[data-security-key]');
  for (var i = 0; i < forms.length; i += 1) setUp(forms[i]);

  function setUp(form) {
    var status = form.querySelector('[data-key-status]');
    var button = form.querySelector('[data-key-button]');
    var say = function (text) {
      if (status !== null) status.textContent = text;
    };
    // The button comes disabled: without this script (JavaScript off, or the script not
    // loaded) it could only post an empty answer. It is enabled, and its use told, only here.
    if (lib === undefined || !lib.browserSupportsWebAuthn()) {
      say(form.getAttribute('data-unsupported') || 'This browser cannot use security keys or passkeys.');
      return;
    }
    if (button === null) return;
    button.disabled = false;
    say('Press the button, then follow your browser’s prompt.');
    button.addEventListener('click', function (event) {
      event.preventDefault();
      // The key stands for the code: only the other fields (a name, a password) must be filled.
      var code = form.querySelector('input[name="code"]');
      if (code !== null) code.required = false;
      var filled = form.reportValidity();
      if (code !== null) code.required = true;
      if (!filled) return;
      var options = JSON.parse(form.getAttribute('data-options'));
      var asking =
        form.getAttribute('data-security-key') === 'make'
          ? lib.startRegistration({ optionsJSON: options })
          : lib.startAuthentication({ optionsJSON: options });
      button.disabled = true;
      say('Follow your browser’s prompt: touch your security key, or confirm with your passkey.');
      asking.then(
        function (answer) {
          form.querySelector('input[name="answer"]').value = JSON.stringify(answer);
          if (code !== null) code.required = false;
          say('Checking…');
          form.submit();
        },
        function () {
          button.disabled = false;
          say(form.getAttribute('data-cancelled') || 'No key answered. Try again, or use another way below.');
        },
      );
    });
  }
})();
