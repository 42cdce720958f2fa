# A scripted SMTP server on 127.0.0.1:2525: replies to RCPT TO per recipient local part.
import socketserver, re
REPLIES = {
  "aliasgone": "550 5.1.1 <{a}>: Recipient address rejected: User unknown in virtual alias table",
  "gmailish": "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550-5.1.1 unnecessary spaces. Learn more at\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser x1si123456 - gsmtp",
  "full": "452 4.2.2 <{a}>: Mailbox full",
  "grey": "450 4.2.0 <{a}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/remote.example.html",
  "blocked": "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1",
  "disabled": "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\r\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser x2si234567 - gsmtp",
  "outlook": "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302).",
  "nouser": "550 5.1.1 <{a}>: Recipient address rejected: User unknown in local recipient table",
}
class H(socketserver.StreamRequestHandler):
    def handle(self):
        w = lambda s: self.wfile.write((s + "\r\n").encode())
        w("220 fake.remote.example ESMTP")
        data = False
        while True:
            line = self.rfile.readline()
            if not line: return
            l = line.decode(errors="replace").rstrip("\r\n")
            if data:
                if l == ".": data = False; w("250 2.0.0 Ok: queued as FAKE1")
                continue
            u = l.upper()
            if u.startswith("EHLO"): w("250-fake.remote.example\r\n250-PIPELINING\r\n250 8BITMIME")
            elif u.startswith("HELO"): w("250 fake.remote.example")
            elif u.startswith("MAIL"): w("250 2.1.0 Ok")
            elif u.startswith("RCPT"):
                m = re.search(r"<([^@>]*)@([^>]*)>", l)
                local = m.group(1) if m else ""
                a = m.group(1) + "@" + m.group(2) if m else ""
                w(REPLIES.get(local, "250 2.1.5 Ok").format(a=a))
            elif u.startswith("DATA"): data = True; w("354 End data with <CR><LF>.<CR><LF>")
            elif u.startswith("RSET"): w("250 2.0.0 Ok")
            elif u.startswith("QUIT"): w("221 2.0.0 Bye"); return
            else: w("502 5.5.2 Error: command not recognized")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
S(("127.0.0.1", 2525), H).serve_forever()
