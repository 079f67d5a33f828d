'use strict';

const express = require('express');
const smartcar = require('smartcar');

const app = express();
const port = 8000;

// SETUP: export SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET and SMARTCAR_REDIRECT_URI
const client = new smartcar.AuthClient({
  redirectUri: process.env.SMARTCAR_REDIRECT_URI,
  mode: 'simulated',
});

// global variable to save the user Connect sends back
let userId;

app.get('/login', function (req, res) {
  const authUrl = client.getAuthUrl(['read_vehicle_info']);
  res.redirect(authUrl);
});

app.get('/exchange', function (req, res) {
  // Connect's redirect carries the user's id: send it as sc-user-id on API calls
  userId = req.query.user_id;
  res.sendStatus(200);
});

// OAuth 2.0 client credentials: an application token, valid for an hour
async function getAccessToken() {
  const response = await fetch('https://iam.smartcar.com/oauth2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: process.env.SMARTCAR_CLIENT_ID,
      client_secret: process.env.SMARTCAR_CLIENT_SECRET,
    }),
  });
  const data = await response.json();
  return data.access_token;
}

app.get('/vehicle', async function (req, res) {
  const headers = {
    Authorization: `Bearer ${await getAccessToken()}`,
    'sc-user-id': userId,
  };

  const connections = await fetch('https://vehicle.api.smartcar.com/v3/connections', {
    headers,
  }).then((response) => response.json());
  const vehicleId = connections.connections[0].vehicleId;

  const vehicle = await fetch(`https://vehicle.api.smartcar.com/v3/vehicles/${vehicleId}`, {
    headers,
  }).then((response) => response.json());

  res.json({ make: vehicle.make, model: vehicle.model, year: vehicle.year });
});

app.listen(port, () => console.log(`Listening on port ${port}`));
