#!/usr/bin/python3
"""Regenerates the seed corpora in tests/fuzz/corpus/<target>/ from a real
redis-server 7.0 (DUMP payloads, RDB files, AOF files) and from hand-written
protocol and command samples. Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_corpus.py
Needs redis-server on PATH (Debian's 7.0.15)."""
import os, shutil, socket, subprocess, sys, tempfile, time
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')
DATA_RDB = os.path.join(HERE, '..', 'data', 'rdb')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def populate(r, big=False):
    """One key of every type and encoding Redis 7.0 has."""
    r.set('str', 'hello')
    r.set('int', 12345)
    r.set('raw', 'x' * 50)
    r.set('ttl', 'v', px=10_000_000)
    r.rpush('list', 'a', 'b', 1, 2, -3)
    r.sadd('intset', 1, 2, 3, -100000, 2**40)
    r.sadd('set', 'a', 'b', 'c')
    r.zadd('zset', {'a': 1, 'b': 2.5, 'c': -1e10})
    r.hset('hash', mapping={'f1': 'v1', 'f2': 2})
    r.xadd('stream', {'f': 'v'}, id='1-1')
    r.xadd('stream', {'f': 'v2', 'g': 'w'}, id='2-0')
    r.xgroup_create('stream', 'grp', id='0')
    r.xreadgroup('grp', 'consumer', {'stream': '>'}, count=1)
    r.execute_command('PFADD', 'hll', 'a', 'b', 'c')
    r.setbit('bits', 100, 1)
    if big:
        r.rpush('biglist', *[f'e{i}' for i in range(300)])
        r.rpush('longlist', 'y' * 9000, 'z')
        r.sadd('bigset', *range(600))
        r.sadd('bigset2', *[f's{i}' for i in range(200)])
        r.zadd('bigzset', {f'm{i}': i for i in range(200)})
        r.hset('bighash', mapping={f'f{i}': i for i in range(600)})
        r.hset('longhash', 'f', 'v' * 100)
        r.zadd('longzset', {'m' * 100: 1})
        for i in range(150):
            r.xadd('bigstream', {'n': i})
        r.xgroup_create('bigstream', 'g2', id='0')
        r.xreadgroup('g2', 'c1', {'bigstream': '>'}, count=50)
        r.xack('bigstream', 'g2', r.xrange('bigstream', count=1)[0][0])
        r.execute_command('PFADD', 'densehll', *[f'x{i}' for i in range(5000)])
        r.set('lzf', 'abc' * 200)


def main():
    tmp = tempfile.mkdtemp(prefix='distcache-corpus-')
    port = free_port()
    proc = subprocess.Popen(['redis-server', '--port', str(port), '--save', '', '--appendonly', 'no',
                             '--dir', tmp, '--daemonize', 'no', '--logfile', os.path.join(tmp, 'log')])
    try:
        r = redis.Redis(port=port)
        deadline = time.time() + 10
        while True:
            try:
                r.ping()
                break
            except redis.ConnectionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        # ---- RESTORE payloads: byte 0 = mode (1: raw payload), byte 1 = limits
        populate(r, big=True)
        for key in sorted(k.decode() for k in r.keys('*')):
            payload = r.dump(key)
            if len(payload) > 4096:
                continue
            write('restore', f'{key}.raw', b'\x01\x00' + payload)
            write('restore', f'{key}.body', b'\x00\x00' + payload[:-10])
            write('restore', f'{key}.small', b'\x00\x01' + payload[:-10])
        # ---- RDB files
        r.flushall()
        populate(r)
        r.save()
        shutil.copy(os.path.join(tmp, 'dump.rdb'), os.path.join(tmp, 'small.rdb'))
        with open(os.path.join(tmp, 'small.rdb'), 'rb') as f:
            write('rdb', 'all-types-small.rdb', f.read())
        r.flushall()
        r.set('a', 'b')
        r.select(3)
        r.set('in-db-3', 'x', ex=1000)
        r.execute_command('FUNCTION', 'LOAD', "#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        r.save()
        with open(os.path.join(tmp, 'dump.rdb'), 'rb') as f:
            write('rdb', 'function-and-dbs.rdb', f.read())
        r.execute_command('FUNCTION', 'FLUSH')
        r.select(0)
        r.flushall()
        r.save()
        with open(os.path.join(tmp, 'dump.rdb'), 'rb') as f:
            write('rdb', 'empty.rdb', f.read())
        for name in os.listdir(DATA_RDB):
            if name.endswith('.rdb.bin'):
                with open(os.path.join(DATA_RDB, name), 'rb') as f:
                    write('rdb', name.replace('.bin', ''), f.read())
        # ---- AOF files: byte 0 = options (bit 0 aof-load-truncated)
        r.config_set('appendonly', 'yes')
        deadline = time.time() + 10
        while r.info('persistence')['aof_rewrite_in_progress'] or r.info('persistence')['aof_rewrite_scheduled']:
            if time.time() > deadline:
                raise RuntimeError('AOF rewrite did not finish')
            time.sleep(0.05)
        r.config_set('aof-timestamp-enabled', 'yes')
        populate(r)
        p = r.pipeline(transaction=True)
        p.incr('counter')
        p.lpush('list', 'm')
        p.execute()
        r.expire('str', 100)
        aofdir = os.path.join(tmp, 'appendonlydir')
        time.sleep(0.2)  # appendfsync everysec: give the write a moment (seed generation only)
        for name in sorted(os.listdir(aofdir)):
            with open(os.path.join(aofdir, name), 'rb') as f:
                data = f.read()
            if name.endswith('.incr.aof'):
                write('aof', 'incr.aof', b'\x01' + data)
                write('aof', 'incr-truncated.aof', b'\x01' + data[:-7])
                write('aof', 'incr-truncated-strict.aof', b'\x00' + data[:-7])
            elif name.endswith('.base.rdb'):
                write('aof', 'base-preamble.aof', b'\x01' + data)
        r.bgrewriteaof()
        deadline = time.time() + 10
        while r.info('persistence')['aof_rewrite_in_progress']:
            if time.time() > deadline:
                raise RuntimeError('AOF rewrite did not finish')
            time.sleep(0.05)
        for name in sorted(os.listdir(aofdir)):
            if name.endswith('.base.rdb'):
                with open(os.path.join(aofdir, name), 'rb') as f:
                    data = f.read()
                write('aof', 'base-populated.aof', b'\x01' + data + b'*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n')
        r.config_set('aof-use-rdb-preamble', 'no')
        r.bgrewriteaof()
        deadline = time.time() + 10
        while r.info('persistence')['aof_rewrite_in_progress']:
            if time.time() > deadline:
                raise RuntimeError('AOF rewrite did not finish')
            time.sleep(0.05)
        for name in sorted(os.listdir(aofdir)):
            if name.endswith('.base.aof'):
                with open(os.path.join(aofdir, name), 'rb') as f:
                    write('aof', 'base-commands.aof', b'\x03' + f.read())
        r.config_set('appendonly', 'no')
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    write('aof', 'multi-unterminated.aof', b'\x01*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n')
    write('aof', 'garbage.aof', b'\x01*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\nxyz\r\n')
    write('aof', 'annotations.aof', b'\x01#TS:1700000000\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n#TS:1\r\n')

    # ---- request parser: byte 0 = limits, byte 1 = split pattern
    samples = {
        'set': b'*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n',
        'pipeline': b'*1\r\n$4\r\nPING\r\n' * 3 + b'*2\r\n$3\r\nGET\r\n$1\r\nk\r\n',
        'inline': b'PING\r\nset k "a b\\x41"\r\nGET k\n\r\n',
        'inline-quotes': b"set 'k' \"v\\\"q\" x\r\n",
        'empty-multibulk': b'*0\r\n*-1\r\n*1\r\n$0\r\n\r\n',
        'bad-bulk-len': b'*1\r\n$-5\r\n',
        'bad-mb-len': b'*abc\r\n',
        'huge-bulk': b'*1\r\n$1073741824\r\nabc',
        'huge-mb': b'*2147483648\r\n',
        'missing-crlf': b'*1\r\n$3\r\nabcXY',
        'unbalanced': b'set "k\r\n',
        'binary': bytes(range(256)),
        'nul-inline': b'PI\x00NG\r\n',
        'hello3': b'*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n',
        'big-arg': b'*2\r\n$3\r\nGET\r\n$300\r\n' + b'k' * 300 + b'\r\n',
    }
    for mode in (0, 1, 2, 4, 8):
        for split in (0, 1, 7):
            for name, data in samples.items():
                if mode in (0,) or name in ('set', 'inline', 'huge-bulk', 'pipeline'):
                    write('resp_parser', f'{name}-m{mode}-s{split}', bytes([mode, split]) + data)

    # ---- command sequences: byte 0 = options (bit 0 RESP3)
    families = {
        'string': 'SET k v\nGET k\nAPPEND k xyz\nSETRANGE k 10 abc\nGETRANGE k 0 -1\nINCR n\nINCRBYFLOAT n 1.5\n'
                  'MSET a 1 b 2\nMGET a b c\nGETEX k PX 100\n~200\nGET k\nSETNX k v\nGETDEL k\nLCS a b\n'
                  'SET s 0123456789 EX 10 GET\nSTRLEN s\nDECRBY n 5\n',
        'list': 'RPUSH l a b c d 1 2 3\nLRANGE l 0 -1\nLINSERT l BEFORE c x\nLPOS l c RANK -1\nLSET l 0 z\n'
                'LMOVE l l2 LEFT RIGHT\nLMPOP 2 l l2 LEFT COUNT 2\nLTRIM l 1 -1\nBLPOP l 0.01\nLREM l 0 a\nRPOPLPUSH l l\n',
        'hash': 'HSET h f v g w\nHGETALL h\nHINCRBY h n 5\nHINCRBYFLOAT h x 1.5e3\nHRANDFIELD h -3 WITHVALUES\n'
                'HSETNX h f z\nHDEL h f g\nHSCAN h 0 MATCH * COUNT 10\nHMGET h f n\nHSTRLEN h n\n',
        'set': 'SADD s 1 2 3 a\nSADD t 3 4 a\nSINTER s t\nSUNIONSTORE u s t\nSDIFF s t\nSPOP s 2\nSMOVE t s 4\n'
               'SRANDMEMBER s -5\nSINTERCARD 2 s t LIMIT 1\nSMISMEMBER s 1 2 9\nSSCAN s 0\n',
        'zset': 'ZADD z 1 a 2 b 3 c\nZADD z GT CH INCR 5 a\nZRANGE z 0 -1 WITHSCORES\nZRANGE z (1 +inf BYSCORE LIMIT 0 2\n'
                'ZRANGEBYLEX z - [b\nZUNIONSTORE u 2 z z WEIGHTS 1 2 AGGREGATE MAX\nZPOPMIN z\nZMPOP 1 z MAX COUNT 2\n'
                'ZRANDMEMBER z -3 WITHSCORES\nZRANK z b\nZINTERCARD 1 z\nZRANGESTORE d z 0 -1\nBZPOPMAX z 0.01\n',
        'stream': 'XADD s * f v\nXADD s 5-1 a b\nXADD s MAXLEN ~ 10 * c d\nXRANGE s - +\nXGROUP CREATE s g $ MKSTREAM\n'
                  'XADD s * x y\nXREADGROUP GROUP g c COUNT 10 STREAMS s >\nXPENDING s g - + 10\nXCLAIM s g c2 0 5-1\n'
                  'XAUTOCLAIM s g c3 0 0-0 COUNT 5\nXACK s g 5-1\nXINFO STREAM s FULL\nXTRIM s MINID 5\nXDEL s 5-1\n'
                  'XSETID s 99-0\nXINFO CONSUMERS s g\nXREAD COUNT 2 STREAMS s 0\n',
        'keys': 'SET a 1\nRPUSH l x\nEXPIRE a 100\nTTL a\nPEXPIREAT l 1700000001000\n~2000\nEXISTS a l\nRENAME a b\n'
                'COPY b c DB 2\n@2\nGET c\n@0\nMOVE b 1\nTYPE l\nOBJECT ENCODING l\nTOUCH a b\nUNLINK b c\nPERSIST a\n'
                'DUMP l\nSORT l ALPHA LIMIT 0 1\nSORT_RO l BY nosort\nMEMORY USAGE l\nEXPIRETIME a\n',
        'bitmap': 'SETBIT b 7 1\nSETBIT b 100 1\nBITCOUNT b 0 -1 BIT\nBITPOS b 1 2 -1 BYTE\nBITOP XOR d b b\n'
                  'BITFIELD b SET u8 0 200 INCRBY i5 100 1 OVERFLOW SAT GET u4 0\nBITFIELD_RO b GET i8 3\nGETBIT b 100\n',
        'hll': 'PFADD h a b c d\nPFCOUNT h\nPFADD h2 c d e\nPFMERGE h3 h h2\nPFCOUNT h h2\nSET x notahll\nPFCOUNT x\n',
        'geo': 'GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania\nGEODIST g Palermo Catania km\n'
               'GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST COUNT 1\nGEOHASH g Palermo x\n'
               'GEOPOS g Catania\nGEORADIUS g 15 37 100 km STORE d\nGEOSEARCHSTORE d2 g FROMMEMBER Palermo BYBOX 400 400 km\n',
        'wrongtype': 'SET s v\nLPUSH s x\nHSET s f v\nZADD s 1 a\nSADD s a\nXADD s * a b\nPFADD s a\nGETRANGE s x y\n'
                     'EXPIRE s abc\nZADD z NX XX 1 a\nZADD z 1\nBITFIELD s GET u99 0\nSETRANGE s -1 x\nLPOS s x RANK 0\n',
    }
    for name, text in families.items():
        write('commands', name, b'\x00' + text.encode())
        write('commands', name + '-resp3', b'\x01' + text.encode())


if __name__ == '__main__':
    main()
