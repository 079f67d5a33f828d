"""Places and weather: the cities vehicles live in, distances and headings, outside temperature.

Temperature is a pure function of (city, time): a seasonal cycle, a daily cycle and a smooth
day-to-day "weather" wobble drawn from a hash of the day, so every process agrees on it."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = 111.32
DAY_MS = 86_400_000
YEAR_DAYS = 365.2425


@dataclass(frozen=True, slots=True)
class City:
    key: str
    name: str
    latitude: float
    longitude: float
    market: str
    #: Standard-time offset from UTC, hours (daylight saving is ignored).
    utc_offset_h: float
    currency: str
    #: Annual mean, half the summer–winter swing, half the day–night swing (°C).
    mean_c: float
    seasonal_c: float
    daily_c: float
    streets: tuple[str, ...]
    #: Public charging sites in town (charge records); the operator is part of the name.
    chargers: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City("san-francisco", "San Francisco", 37.7749, -122.4194, "NA", -8, "USD", 14.5, 3.0, 4.0,
         ("Valencia Street", "Divisadero Street", "Irving Street", "Folsom Street"),
         ("Tesla Supercharger Fell Street", "EVgo Japantown", "ChargePoint Stonestown")),
    City("los-angeles", "Los Angeles", 34.0522, -118.2437, "NA", -8, "USD", 18.5, 4.5, 5.5,
         ("Sunset Boulevard", "Wilshire Boulevard", "Olympic Boulevard", "Figueroa Street"),
         ("Electrify America Westfield Century City", "EVgo Silver Lake", "Tesla Supercharger Hawthorne")),
    City("seattle", "Seattle", 47.6062, -122.3321, "NA", -8, "USD", 11.5, 7.0, 4.5,
         ("Pine Street", "Aurora Avenue North", "Rainier Avenue South", "Northeast 45th Street"),
         ("Electrify America Northgate", "Tesla Supercharger Bellevue", "ChargePoint South Lake Union")),
    City("denver", "Denver", 39.7392, -104.9903, "NA", -7, "USD", 10.5, 11.0, 8.0,
         ("Colfax Avenue", "Broadway", "Federal Boulevard", "Speer Boulevard"),
         ("Electrify America Cherry Creek", "EVgo Lowry", "Tesla Supercharger Denver Union Station")),
    City("austin", "Austin", 30.2672, -97.7431, "NA", -6, "USD", 21.0, 9.0, 6.0,
         ("South Congress Avenue", "Guadalupe Street", "Burnet Road", "East Cesar Chavez Street"),
         ("Tesla Supercharger Domain", "EVgo Mueller", "Electrify America Barton Creek")),
    City("chicago", "Chicago", 41.8781, -87.6298, "NA", -6, "USD", 10.5, 14.0, 5.0,
         ("North Clark Street", "West Armitage Avenue", "South Halsted Street", "North Milwaukee Avenue"),
         ("EVgo Lincoln Park", "Electrify America Skokie", "Tesla Supercharger Goose Island")),
    City("new-york", "New York", 40.7128, -74.0060, "NA", -5, "USD", 13.0, 12.0, 5.0,
         ("West 23rd Street", "Atlantic Avenue", "Queens Boulevard", "Amsterdam Avenue"),
         ("Revel Red Hook", "Tesla Supercharger Manhattan", "EVgo Long Island City")),
    City("boston", "Boston", 42.3601, -71.0589, "NA", -5, "USD", 11.0, 12.5, 5.0,
         ("Boylston Street", "Commonwealth Avenue", "Tremont Street", "Cambridge Street"),
         ("EVgo Fenway", "Tesla Supercharger Somerville", "ChargePoint Seaport")),
    City("toronto", "Toronto", 43.6532, -79.3832, "NA", -5, "CAD", 9.0, 13.5, 5.0,
         ("Queen Street West", "Yonge Street", "Dundas Street East", "Bloor Street West"),
         ("Petro-Canada Electric Highway", "Tesla Supercharger Yorkdale", "FLO Union Station")),
    City("vancouver", "Vancouver", 49.2827, -123.1207, "NA", -8, "CAD", 11.0, 7.0, 4.0,
         ("Main Street", "Commercial Drive", "West Broadway", "Granville Street"),
         ("BC Hydro Kensington", "Tesla Supercharger Vancouver", "FLO Olympic Village")),
    City("london", "London", 51.5074, -0.1278, "EU", 0, "GBP", 11.5, 6.5, 4.0,
         ("Camden High Street", "Kingsland Road", "Fulham Road", "Holloway Road"),
         ("Ionity Canary Wharf", "Tesla Supercharger Park Royal", "Shell Recharge Fulham")),
    City("berlin", "Berlin", 52.5200, 13.4050, "EU", 1, "EUR", 10.0, 9.5, 5.0,
         ("Kastanienallee", "Sonnenallee", "Kantstraße", "Frankfurter Allee"),
         ("Ionity Berlin Mitte", "EnBW Schöneberg", "Tesla Supercharger Schönefeld")),
    City("munich", "Munich", 48.1351, 11.5820, "EU", 1, "EUR", 9.5, 9.5, 6.0,
         ("Leopoldstraße", "Rosenheimer Straße", "Landsberger Straße", "Schleißheimer Straße"),
         ("Ionity Munich Nord", "EnBW Freiham", "Tesla Supercharger Munich")),
    City("amsterdam", "Amsterdam", 52.3676, 4.9041, "EU", 1, "EUR", 10.5, 7.0, 4.0,
         ("Overtoom", "Ferdinand Bolstraat", "Javastraat", "Kinkerstraat"),
         ("Fastned A10 Amstel", "Tesla Supercharger Amsterdam", "Shell Recharge Sloterdijk")),
    City("paris", "Paris", 48.8566, 2.3522, "EU", 1, "EUR", 12.5, 8.0, 5.0,
         ("Rue de Rivoli", "Boulevard Voltaire", "Rue de Vaugirard", "Avenue de Clichy"),
         ("Ionity Porte de Saint-Cloud", "Tesla Supercharger Paris", "TotalEnergies Bercy")),
    City("oslo", "Oslo", 59.9139, 10.7522, "EU", 1, "NOK", 6.5, 10.5, 4.0,
         ("Thorvald Meyers gate", "Bogstadveien", "Trondheimsveien", "Kirkeveien"),
         ("Mer Økern", "Circle K Storo", "Tesla Supercharger Oslo")),
    City("stockholm", "Stockholm", 59.3293, 18.0686, "EU", 1, "SEK", 7.5, 10.0, 4.0,
         ("Götgatan", "Sveavägen", "Hornsgatan", "Odengatan"),
         ("Ionity Barkarby", "Vattenfall InCharge Hammarby", "Tesla Supercharger Stockholm")),
)
CITY_BY_KEY: dict[str, City] = {c.key: c for c in CITIES}

_DIRECTIONS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def cities_in(markets: tuple[str, ...]) -> list[City]:
    return [c for c in CITIES if c.market in markets]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def direction(heading: float) -> str:
    """The eight-point compass direction of a heading."""
    return _DIRECTIONS[int((heading % 360.0) / 45.0 + 0.5) % 8]


def offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    """A point a short distance away (flat-earth approximation, fine within a city)."""
    new_lat = lat + north_km / KM_PER_DEGREE
    new_lon = lon + east_km / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return new_lat, (new_lon + 180.0) % 360.0 - 180.0


def _mix(value: int) -> int:
    """splitmix64 finaliser: a fast, well-spread integer hash."""
    value = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 31)


def unit_noise(*keys: int) -> float:
    """A deterministic number in [0, 1) from integer keys."""
    value = 0
    for key in keys:
        value = _mix(value ^ (key & 0xFFFFFFFFFFFFFFFF))
    return (value >> 11) / float(1 << 53)


def local_hour(city: City, now_ms: int) -> float:
    return ((now_ms / 3_600_000.0) + city.utc_offset_h) % 24.0


def _day_wobble(city_seed: int, day: int) -> float:
    return (unit_noise(city_seed, day) - 0.5) * 6.0  # ±3 °C of weather from day to day


def outside_temperature(city: City, now_ms: int) -> float:
    """Outside air temperature in °C at a city and time."""
    days = now_ms / DAY_MS + city.utc_offset_h / 24.0
    # Coldest around 20 January, warmest in late July (all cities are northern).
    season = -city.seasonal_c * math.cos(2 * math.pi * ((days - 19.0) % YEAR_DAYS) / YEAR_DAYS)
    hour = local_hour(city, now_ms)
    daily = -city.daily_c * math.cos(2 * math.pi * (hour - 4.0) / 24.0)
    day = math.floor(days)
    seed = hash_text(city.key)
    frac = days - day
    weather = _day_wobble(seed, day) * (1 - frac) + _day_wobble(seed, day + 1) * frac
    return city.mean_c + season + daily + weather


def sun_strength(city: City, now_ms: int) -> float:
    """0 at night, up to 1 at a summer noon: how much a parked cabin heats above the air."""
    hour = local_hour(city, now_ms)
    if not 6.0 < hour < 20.0:
        return 0.0
    days = now_ms / DAY_MS
    summer = 0.55 + 0.45 * -math.cos(2 * math.pi * ((days - 19.0) % YEAR_DAYS) / YEAR_DAYS)
    return math.sin(math.pi * (hour - 6.0) / 14.0) * summer


_TEXT_HASHES: dict[str, int] = {}


def hash_text(text: str) -> int:
    """A stable 64-bit hash of a string (``hash()`` is salted per process)."""
    cached = _TEXT_HASHES.get(text)
    if cached is None:
        value = 0
        for byte in text.encode():
            value = _mix(value ^ byte)
        cached = _TEXT_HASHES[text] = value
    return cached
