#!/usr/bin/perl
# Latency of the OAuth endpoints through nginx, on the test harness's stack:
#   SQ_BUILD=$PWD/build PERL5LIB=/work/shared/vendor/test-nginx/lib \
#       perl scripts/oauth-measure.pl
# 20 sign-ins, 4 failed ones of each kind, then 200 times: authorize page, consent approve, code
# redemption, refresh (one client, sequential, keep-alive).
use strict; use warnings;
use lib 't/lib';
use SQTest;
use JSON::PP; use Time::HiRes qw(time); use Digest::SHA qw(sha256); use MIME::Base64;
my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));
my $h = HTTP::Tiny->new(max_redirect => 0, keep_alive => 1);
my $json = JSON::PP->new;
SQTest::run_capture('sh', '-c', 'printf "%s\n" "$0" | SMARTLYQ_REDIS=$1 SMARTLYQ_PEPPER_FILE=$2 SMARTLYQ_REDIS_PASSWORD_FILE=$3 $4 user password --id $5',
  'correct horse battery', "127.0.0.1:$SQTest::PORT{redis}", "$SQTest::DIR/pepper", $SQTest::PASS{backend}, "$SQTest::BUILD/sqctl", $T->{alice});
my $app = $json->decode(sqctl('app', 'create', '--workspace', $T->{wsb}, '--owner', $T->{bob}, '--name', 'M',
  '--redirect-uris', 'https://c.example/cb', '--scopes', 'chatbots:read'));
my $basic = 'Basic ' . encode_base64("$app->{client_id}:$app->{client_secret}", '');
my %t;
sub timed { my ($k, $code) = @_; my $t0 = time; my $r = $code->(); push @{$t{$k}}, (time - $t0) * 1000; return $r }
sub form { $h->www_form_urlencode($_[0]) }
sub post { my ($p, $f, $hd) = @_; $h->request('POST', "$base$p", { headers => { 'Content-Type' => 'application/x-www-form-urlencoded', %{$hd||{}} }, content => form($f) }) }
my $cookie;
for (1 .. 20) {
  my $r = timed('signin', sub { post('/signin', { email => 'alice@example.com', password => 'correct horse battery' }) });
  ($cookie) = $r->{headers}{'set-cookie'} =~ /sq_session=([^;]*)/;
}
# a failed sign-in takes as long for an unknown email as for a wrong
# password (the dummy hash); 4 of each, under both limits
for my $i (1 .. 4) {
  timed('signin_wrong_pw', sub { post('/signin', { email => 'alice@example.com', password => 'wrong wrong' }) });
  timed('signin_unknown', sub { post('/signin', { email => "nobody$i\@example.com", password => 'wrong wrong' }) });
}
my $N = 200;
for (1 .. $N) {
  my $v = join '', map { ('a'..'z')[rand 26] } 1..64;
  (my $ch = encode_base64(sha256($v), '')) =~ tr{+/}{-_}; $ch =~ s/=+$//;
  my $q = form({ response_type => 'code', client_id => $app->{client_id}, redirect_uri => 'https://c.example/cb', scope => 'chatbots:read', state => 's', code_challenge => $ch, code_challenge_method => 'S256' });
  my $r = timed('authorize', sub { $h->request('GET', "$base/oauth/authorize?$q", { headers => { Cookie => "sq_session=$cookie" } }) });
  my %f; while ($r->{content} =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g) { $f{$1} = $2 }
  $f{decision} = "approve"; $f{workspace_id} = $T->{ws1};
  $r = timed('consent', sub { post('/oauth/authorize', \%f, { Cookie => "sq_session=$cookie" }) });
  die "consent $r->{status} $r->{content}" unless $r->{headers}{location}; my ($code) = $r->{headers}{location} =~ /code=([^&]+)/;
  $r = timed('token_code', sub { post('/oauth/token', { grant_type => 'authorization_code', code => $code, redirect_uri => 'https://c.example/cb', code_verifier => $v }, { Authorization => $basic }) });
  my $tok = $json->decode($r->{content});
  $r = timed('token_refresh', sub { post('/oauth/token', { grant_type => 'refresh_token', refresh_token => $tok->{refresh_token} }, { Authorization => $basic }) });
  die "refresh $r->{status}" unless $r->{status} == 200;
}
for my $k (qw(signin signin_wrong_pw signin_unknown authorize consent token_code token_refresh)) {
  my @s = sort { $a <=> $b } @{$t{$k}};
  printf "%-14s n=%3d median %6.2f ms  p90 %6.2f ms  max %6.2f ms\n", $k, scalar @s, $s[@s/2], $s[int(@s*0.9)], $s[-1];
}
