import { Resource, tables } from 'weftdb';

/** GET /DeviceStats/<deviceId>: count, min, max and mean temperature of the device's readings. */
export class DeviceStats extends Resource {
  async get() {
    const id = this.getId();
    if (!id) return undefined;
    const device = await tables.Device.get(id);
    if (!device) return undefined;
    let count = 0, sum = 0, min = Infinity, max = -Infinity;
    for await (const r of tables.Reading.search(`deviceId=${encodeURIComponent(id)}&select(temperature)`)) {
      if (typeof r !== 'number') continue;
      count++; sum += r; min = Math.min(min, r); max = Math.max(max, r);
    }
    return { device: device.name, count, min: count ? min : null, max: count ? max : null, mean: count ? sum / count : null };
  }
}

/** The upstream weather service, at WEATHER_URL/<location>. */
class WeatherService extends Resource {
  async get() {
    const base = process.env.WEATHER_URL;
    if (!base) throw Object.assign(new Error('WEATHER_URL is not set'), { statusCode: 503 });
    const res = await fetch(`${base}/${encodeURIComponent(this.getId())}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw Object.assign(new Error(`weather service answered ${res.status}`), { statusCode: 502 });
    return res.json();
  }
}

tables.Weather.sourcedFrom(WeatherService, { timeout: 5000 });
