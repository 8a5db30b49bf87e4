"""A stand-in for CloudFormation before a first deployment, on loopback: every request is answered as AWS answers
DescribeStacks for a stack that does not exist. The Serverless Framework's `package` asks it once per layer (is
this layer already uploaded?) and goes on when the stack is missing; AWS itself is unreachable here.

    python3 test/release/cloudformation-first-deploy.py PORT_FILE     # writes the port it listens on, serves until killed
"""
import http.server
import sys

XML = ('<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
       '<Code>ValidationError</Code><Message>Stack with id {0} does not exist</Message></Error>'
       '<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>')


class FirstDeploy(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode(errors='replace')
        stack = next((p.split('=', 1)[1] for p in body.split('&') if p.startswith('StackName=')), 'unknown')
        data = XML.format(stack).encode()
        self.send_response(400)
        self.send_header('Content-Type', 'text/xml')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print('cloudformation stand-in: %s -> stack %s does not exist' % (body.split('&')[0], stack), flush=True)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(('127.0.0.1', 0), FirstDeploy)
with open(sys.argv[1], 'w') as f:
    f.write(str(server.server_port))
server.serve_forever()
