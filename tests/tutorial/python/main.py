import os

import requests
import smartcar
from flask import Flask, jsonify, redirect, request

app = Flask(__name__)

# SETUP: export SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET and SMARTCAR_REDIRECT_URI
client = smartcar.AuthClient(mode="simulated")

# global variable to save the user Connect sends back
user_id = None


@app.route("/login", methods=["GET"])
def login():
    auth_url = client.get_auth_url(["read_vehicle_info"])
    return redirect(auth_url)


@app.route("/exchange", methods=["GET"])
def exchange():
    global user_id
    # Connect's redirect carries the user's id: send it as sc-user-id on API calls
    user_id = request.args.get("user_id")
    return "", 200


def get_access_token():
    # OAuth 2.0 client credentials: an application token, valid for an hour
    response = requests.post(
        "https://iam.smartcar.com/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": os.environ["SMARTCAR_CLIENT_ID"],
            "client_secret": os.environ["SMARTCAR_CLIENT_SECRET"],
        },
    )
    return response.json()["access_token"]


@app.route("/vehicle", methods=["GET"])
def get_vehicle():
    headers = {"Authorization": f"Bearer {get_access_token()}", "sc-user-id": user_id}

    connections = requests.get(
        "https://vehicle.api.smartcar.com/v3/connections", headers=headers
    ).json()
    vehicle_id = connections["connections"][0]["vehicleId"]

    vehicle = requests.get(
        f"https://vehicle.api.smartcar.com/v3/vehicles/{vehicle_id}", headers=headers
    ).json()

    return jsonify({"make": vehicle["make"], "model": vehicle["model"], "year": vehicle["year"]})


if __name__ == "__main__":
    app.run(port=8000)
