// Every call of Smartcar's Node SDK that sends a request, made as an application makes it,
// against whatever the SMARTCAR_* variables of its environment name.
//
//   node driver.js smartcar9     (the 9.x release, installed under that alias)
//   node driver.js smartcar10    (10.4.0)
//
// The same line protocol as ../python/driver.py: one JSON line per call ({call, raised, value}
// or {call, raised, error}) or checkpoint ({checkpoint: "connect" | "commands"}), each answered
// by one line on stdin. A call the installed release does not offer is reported as
// {call, offered: false}.
'use strict';

const readline = require('readline');

const alias = process.argv[2];
const smartcar = require(alias);
const {version} = require(`${alias}/package.json`);

const SCOPE = [
  'read_vehicle_info', 'read_vin', 'read_odometer', 'read_location', 'read_battery',
  'read_charge', 'read_fuel', 'read_engine_oil', 'read_tires', 'read_security',
  'read_diagnostics', 'read_service_history', 'control_security', 'control_charge',
  'control_navigation',
];
const BATCH_PATHS = ['/odometer', '/location', '/charge/limit', '/security', '/tires/pressure'];
const DESTINATION = [51.5007, -0.1246];
const CHARGE_LIMIT = 1.0;

const answers = readline.createInterface({input: process.stdin})[Symbol.asyncIterator]();

async function say(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
  const {value, done} = await answers.next();
  return done || !value.trim() ? {} : JSON.parse(value);
}

function errorOf(caught) {
  const fields = {};
  for (const key of Object.keys(caught)) {
    fields[key] = caught[key];
  }
  return {class: caught.name || caught.constructor.name, message: caught.message, ...fields};
}

async function call(name, make, shown = (result) => result) {
  if (make === undefined) {
    await say({call: name, offered: false});
    return null;
  }
  let result;
  try {
    result = await make();
  } catch (caught) {
    await say({call: name, raised: true, error: errorOf(caught)});
    return null;
  }
  await say({call: name, raised: false, value: shown(result)});
  return result;
}

// A method of the SDK, or undefined when this release does not have it.
function offered(owner, name, ...args) {
  return typeof owner[name] === 'function' ? () => owner[name](...args) : undefined;
}

function batchItems(result) {
  const items = {};
  for (const [attribute, read] of Object.entries(result)) {
    try {
      items[attribute] = {raised: false, value: read()};
    } catch (caught) {
      items[attribute] = {raised: true, error: errorOf(caught)};
    }
  }
  return items;
}

async function everyCall() {
  // 10.x no longer reads SMARTCAR_REDIRECT_URI itself: applications pass it, as here.
  const client = new smartcar.AuthClient({redirectUri: process.env.SMARTCAR_REDIRECT_URI, mode: 'test'});
  const url = await call('getAuthUrl', () => client.getAuthUrl(SCOPE, {state: 'official-sdk'}));
  const given = await say({checkpoint: 'connect', url});
  const amt = process.env.APPLICATION_MANAGEMENT_TOKEN;

  const access = await call('exchangeCode', () => client.exchangeCode(given.code));
  let token = access ? access.accessToken : '';
  const refreshed = await call('exchangeRefreshToken', () => client.exchangeRefreshToken(access.refreshToken));
  if (refreshed) {
    token = refreshed.accessToken;
  }

  const user = await call('getUser', () => smartcar.getUser(token));
  const vehicles = await call('getVehicles', () => smartcar.getVehicles(token));
  const vehicleId = vehicles && vehicles.vehicles && vehicles.vehicles.length ?
    vehicles.vehicles[0] : given.vehicle_id;
  const vehicle = new smartcar.Vehicle(vehicleId, token);

  for (const name of [
    'attributes', 'vin', 'odometer', 'location', 'battery', 'batteryCapacity', 'nominalCapacity',
    'charge', 'getChargeLimit', 'fuel', 'engineOil', 'tirePressure', 'lockStatus', 'permissions',
    'serviceHistory', 'diagnosticSystemStatus', 'diagnosticTroubleCodes',
  ]) {
    await call(name, offered(vehicle, name));
  }
  await call('batch', offered(vehicle, 'batch', BATCH_PATHS), batchItems);
  await call('request', offered(vehicle, 'request', 'get', 'odometer'));
  await call('getSignals', offered(vehicle, 'getSignals'));
  await call('getSignal', offered(vehicle, 'getSignal', 'odometer-traveleddistance'));
  await call('getVehicle', offered(smartcar, 'getVehicle', token, vehicleId));

  await call('getCompatibility', offered(smartcar, 'getCompatibility', given.vin, ['read_odometer', 'read_location'], 'US'));
  await call('getCompatibilityMatrix', offered(smartcar, 'getCompatibilityMatrix', 'US', {make: given.make}));
  const userId = user ? user.id : given.user_id;
  await call('getConnections', offered(smartcar, 'getConnections', amt, {userId}));

  await call('unlock', offered(vehicle, 'unlock'));
  await call('lock', offered(vehicle, 'lock'));
  await call('setChargeLimit', offered(vehicle, 'setChargeLimit', CHARGE_LIMIT));
  await call('startCharge', offered(vehicle, 'startCharge'));
  await call('stopCharge', offered(vehicle, 'stopCharge'));
  await call('sendDestination', offered(vehicle, 'sendDestination', ...DESTINATION));
  await say({checkpoint: 'commands'});

  await call('deleteConnections', offered(smartcar, 'deleteConnections', amt, {userId: given.other_user_id}));
  await call('disconnect', offered(vehicle, 'disconnect'));
}

async function main() {
  await say({call: 'sdkVersion', raised: false, value: version});
  await everyCall();
  process.exit(0);
}

main().catch((caught) => {
  process.stderr.write(`${caught.stack}\n`);
  process.exit(1);
});
