#!/usr/bin/env bash
# Regenerates testdata/postfix/loopback-postlogd.log with a real Postfix on loopback.
# Needs root and Debian's postfix and swaks packages (apt-get install postfix swaks).
# It REPLACES /etc/postfix/main.cf and the maps named below: run it only on a throw-away
# machine. Traffic goes to 127.0.0.1/127.0.0.2 only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
log=/var/log/postfix-loop.log
python3 "$here/scripts/fake-smtp-peer.py" & peer=$!
trap 'kill $peer 2>/dev/null; postfix stop >/dev/null 2>&1 || true' EXIT
cd /etc/postfix
postconf -e compatibility_level=3.6 myhostname=mx1.example.com mydomain=example.com \
  myorigin=example.com inet_interfaces=loopback-only inet_protocols=ipv4 \
  'mydestination=example.com, localhost' mynetworks=127.0.0.1/32 \
  'local_recipient_maps=proxy:unix:passwd.byname $alias_maps' \
  virtual_alias_domains=example.net virtual_alias_maps=hash:/etc/postfix/virtual \
  virtual_mailbox_domains=example.org virtual_mailbox_maps=hash:/etc/postfix/vmailbox \
  virtual_mailbox_base=/var/mail/vhosts virtual_uid_maps=static:5000 virtual_gid_maps=static:5000 \
  relay_domains=corp.example relay_recipient_maps=hash:/etc/postfix/relay_recipients \
  transport_maps=hash:/etc/postfix/transport smtpd_helo_required=yes \
  'smtpd_helo_restrictions=permit_mynetworks, reject_invalid_helo_hostname' \
  'smtpd_relay_restrictions=permit_mynetworks, reject_unauth_destination' \
  'smtpd_recipient_restrictions=warn_if_reject check_recipient_access hash:/etc/postfix/warn_access, check_recipient_access hash:/etc/postfix/rcpt_access' \
  smtpd_sender_restrictions=check_sender_access\ hash:/etc/postfix/sender_access \
  maillog_file=$log disable_dns_lookups=yes smtp_host_lookup=native \
  maximal_queue_lifetime=90s bounce_queue_lifetime=90s queue_run_delay=15s \
  minimal_backoff_time=10s maximal_backoff_time=20s smtpd_tls_security_level=none smtp_tls_security_level=none
printf 'info@example.net root\n' > virtual
printf 'alice@example.org ok\n' > vmailbox
printf 'staff@corp.example OK\n' > relay_recipients
printf 'corp.example smtp:[127.0.0.1]:2525\nremote.example smtp:[127.0.0.1]:2525\n' > transport
printf 'ceo@example.com REJECT Access denied\n' > rcpt_access
printf 'press@example.com REJECT Not accepting press releases\n' > warn_access
printf 'spammer@bad.example REJECT\n' > sender_access
for m in virtual vmailbox relay_recipients transport rcpt_access warn_access sender_access; do postmap $m; done
newaliases; mkdir -p /var/mail/vhosts; rm -f $log
postfix start; sleep 2
ext="swaks --server 127.0.0.1 --local-interface 127.0.0.2 --quit-after RCPT -S --from alice@ext.example"
for to in nouser@example.com unknown@example.com nouser@example.com gone@example.net bob@example.org \
          nobody@corp.example someone@elsewhere.example ceo@example.com press@example.com; do
  $ext --helo mail.ext.example --to $to || true
done
swaks --server 127.0.0.1 --local-interface 127.0.0.2 --helo mail.ext.example --from spammer@bad.example --to root@example.com --quit-after RCPT -S || true
$ext --helo 'bad..helo' --to root@example.com || true
swaks --server 127.0.0.1 --local-interface 127.0.0.2 --helo mail.ext.example --from alice@ext.example \
  --to root@example.com,staff@corp.example,nobody2@example.org -S || true
swaks --server 127.0.0.1 --helo mx1.example.com --from news@example.com -S \
  --to aliasgone@remote.example,gmailish@remote.example,full@remote.example,grey@remote.example,blocked@remote.example,disabled@remote.example,outlook@remote.example,ok@remote.example,nouser@remote.example || true
printf 'Subject: test\n\nhello\n' | /usr/sbin/sendmail -f root@example.com ghost@example.com
sleep 120   # let the deferred message expire
sed -e 's/127\.0\.0\.1/192.0.2.1/g; s/127\.0\.0\.2/192.0.2.2/g' $log > "$here/testdata/postfix/loopback-postlogd.log"
echo "wrote testdata/postfix/loopback-postlogd.log"
