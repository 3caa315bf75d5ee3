/**
 * autocannon run in its own process (`node cannon-paths.js ORIGIN CONNECTIONS SECONDS PATHS_JSON`)
 * whose GET requests go through a list of paths in turn (each connection continues from where
 * the last request of any connection left off), printing autocannon's result as JSON, like
 * `autocannon -j`: a load that asks for something different each request, which the command
 * line cannot give.
 */
import autocannon from 'autocannon';

const [origin, connections, seconds, pathsJson] = process.argv.slice(2);
const paths = JSON.parse(pathsJson) as string[];
let next = 0;
const result = await autocannon({
  url: origin,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'GET',
      setupRequest: (req) => {
        req.path = paths[next];
        next = (next + 1) % paths.length;
        return req;
      },
    },
  ],
});
process.stdout.write(JSON.stringify(result));
