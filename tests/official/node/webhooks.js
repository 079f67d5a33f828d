// Smartcar's Node SDK (the package named in argv[2]) and webhooks, unchanged: subscribe with the
// user's token, unsubscribe with the management token, and hashChallenge / verifyPayload over a
// delivery motorpool sent. Reads one JSON object on stdin, prints one on stdout.
'use strict';

const alias = process.argv[2];
const smartcar = require(alias);

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const given = JSON.parse(input);
  const vehicle = new smartcar.Vehicle(given.vehicleId, given.token);
  const out = {};
  try {
    const subscribed = await vehicle.subscribe(given.webhookId);
    out.subscribed = {webhookId: subscribed.webhookId, vehicleId: subscribed.vehicleId};
    out.challenge = smartcar.hashChallenge(given.amt, given.challenge);
    out.verified = smartcar.verifyPayload(given.amt, given.signature, JSON.parse(given.body));
    out.tampered = smartcar.verifyPayload(given.amt, given.signature, {...JSON.parse(given.body), eventId: 'x'});
    const unsubscribed = await vehicle.unsubscribe(given.amt, given.webhookId);
    out.unsubscribed = {status: unsubscribed.status};
  } catch (error) {
    out.error = String(error && error.stack || error);
  }
  process.stdout.write(JSON.stringify(out));
});
