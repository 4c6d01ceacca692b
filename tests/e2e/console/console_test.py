#!/usr/bin/python3
"""The web console in a real browser: headless Chromium driven by chromedriver
(Debian's chromium-driver and python3-selenium) against a real `wharf server`.

A user logs in, registers a task definition and a second revision, compares
them, runs it, watches the tasks succeed and reads a log, looks at the model's
confusion matrix, watches an endpoint's live traffic charts move, changes its
weights, rolls back, inspects and filters captures and measures drift. Each
page is saved as a screenshot under --artifacts, and no page may log an error
to the browser console.

Exit codes: 0 passed, 1 failed, 77 skipped (no Chromium, chromedriver or
selenium here; the reason is printed).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CHROMIUM = '/usr/lib/chromium/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
WINE_ROW = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]
# How long a wait may take (seconds): a busy machine makes the test slower, not red.
PATIENCE = 180


def skip(reason):
    print(f'SKIPPED: {reason}')
    sys.exit(77)


try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    skip(f'python3-selenium is not installed ({e}); scripts/install-deps installs it')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    """A `wharf server` on a temporary home, and its REST API."""

    def __init__(self, wharf, home):
        self.home = home
        self.log = open(os.path.join(home, 'server.out'), 'w')
        self.process = subprocess.Popen([wharf, 'server', '--home', home, '--port', '0', '--cpus', '2'],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        server_json = os.path.join(home, 'server.json')
        deadline = time.time() + PATIENCE
        while time.time() < deadline:
            if os.path.exists(server_json):
                break
            if self.process.poll() is not None:
                raise AssertionError(f'wharf server exited with {self.process.returncode}: {self.output()}')
            time.sleep(0.05)
        with open(server_json) as f:
            self.url = json.load(f)['url']
        with open(os.path.join(home, 'server.token')) as f:
            self.token = f.read().strip()

    def output(self):
        with open(os.path.join(self.home, 'server.out')) as f:
            return f.read()

    def call(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={'Authorization': f'Bearer {self.token}'})
        with urllib.request.urlopen(request, timeout=PATIENCE) as response:
            return json.loads(response.read() or b'{}')

    def stop(self):
        try:
            for t in self.call('GET', '/api/tasks?state=PENDING,RUNNING&limit=0')['tasks']:
                self.call('POST', f'/api/tasks/{t["id"]}/stop', {'grace_ms': 0})
            deadline = time.time() + PATIENCE
            while time.time() < deadline and self.call('GET', '/api/tasks?state=PENDING,RUNNING&limit=0')['tasks']:
                time.sleep(0.2)
        except (urllib.error.URLError, OSError):
            pass
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Traffic(threading.Thread):
    """Sends wine rows to an endpoint until stopped; counts answers."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.answered = 0
        self.halt = threading.Event()

    def run(self):
        body = json.dumps({'inputs': [{'name': 'x', 'shape': [1, 11], 'datatype': 'FP32', 'data': WINE_ROW}]}).encode()
        while not self.halt.is_set():
            try:
                request = urllib.request.Request(self.url, data=body, method='POST',
                                                 headers={'Content-Type': 'application/json'})
                with urllib.request.urlopen(request, timeout=5) as response:
                    response.read()
                    self.answered += 1
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
            time.sleep(0.02)


class Console:
    """The browser, and the checks every page gets."""

    def __init__(self, base_url, artifacts):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ['--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1400,1000',
                    '--disable-dev-shm-usage']:
            options.add_argument(arg)
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.downloads = os.path.join(artifacts, 'downloads')
        os.makedirs(self.downloads)
        self.driver.execute_cdp_cmd('Browser.setDownloadBehavior', {'behavior': 'allow', 'downloadPath': self.downloads})
        self.base_url = base_url
        self.artifacts = artifacts
        self.allowed_errors = []  # substrings of console errors a step expects
        self.shots = 0

    def go(self, fragment):
        self.driver.get(f'{self.base_url}/#{fragment}')

    def find(self, css, timeout=PATIENCE):
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css), f'no element {css}', timeout)

    def wait(self, condition, what, timeout=PATIENCE):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2,
                                 ignored_exceptions=(Exception,)).until(condition)
        except TimeoutException:
            self.shot('failure')
            raise AssertionError(f'timed out after {timeout} s: {what}\npage text:\n{self.text()[:3000]}')

    def text(self, css='body'):
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def wait_text(self, css, needle, timeout=PATIENCE):
        return self.wait(lambda d: needle in d.find_element(By.CSS_SELECTOR, css).text,
                         f'"{needle}" in {css}', timeout)

    def fill(self, css, text):
        el = self.find(css)
        el.clear()
        el.send_keys(text)

    def click(self, css):
        """Clicks `css` once it is enabled; a polled page may replace the element meanwhile: find it again."""
        def clicked(d):
            element = d.find_element(By.CSS_SELECTOR, css)
            if not element.is_enabled():
                return False
            element.click()
            return True
        self.wait(clicked, f'{css} enabled and clicked')

    def shot(self, name):
        """Saves the page as NN-name.png, numbered in the order taken."""
        self.shots += 1
        self.driver.save_screenshot(os.path.join(self.artifacts, f'{self.shots:02d}-{name}.png'))

    def page_done(self, name):
        """Screenshot, then fail on any error the page logged."""
        self.shot(name)
        errors = [e for e in self.driver.get_log('browser') if e['level'] == 'SEVERE'
                  and not any(allowed in e['message'] for allowed in self.allowed_errors)]
        assert not errors, f'{name}: console errors: {json.dumps(errors, indent=1)}'
        self.allowed_errors = []
        print(f'ok  {name}')

    def quit(self):
        self.driver.quit()


def check_console(server, console, data_dir):
    c = console
    for name in ['TrainingDataset.csv', 'ValidationDataset.csv']:
        with open(os.path.join(data_dir, name), 'rb') as f:
            server.call('PUT', f'/api/artifacts/wine/{name}', raw=f.read())

    # Logging in: a wrong token is refused with a message, the right one opens the overview.
    c.go('/')
    c.find('#login-form')
    c.fill('#token', 'not-the-token')
    c.click('#login')
    c.wait_text('.error-box', 'not this server')
    c.allowed_errors = ['401']  # the browser logs the refused request itself
    c.page_done('login-refused')
    c.fill('#token', server.token)
    c.click('#login')
    c.find('#running')
    c.wait_text('#failures', 'No failures')
    c.page_done('overview-empty')

    # A new definition from the JSON editor, then a second revision, compared side by side.
    c.go('/taskdefs')
    c.click('#new-taskdef')
    spec = {'name': 'console-train', 'job': 'train', 'model': 'wine',
            'params': {'train': 'artifact:wine/TrainingDataset.csv',
                       'validation': 'artifact:wine/ValidationDataset.csv'},
            'resources': {'cpus': 0.5, 'memory': '2GiB'}, 'timeout': '5m'}
    c.fill('#taskdef-json', json.dumps(spec, indent=1))
    c.click('#register')
    c.wait(lambda d: d.current_url.endswith('#/taskdefs/console-train'), 'the new definition\'s page')
    c.wait_text('#revisions', '1')
    c.page_done('taskdef-registered')
    spec['retries'] = 2
    c.fill('#taskdef-json', json.dumps(spec, indent=1))
    c.click('#register')
    c.wait_text('#compare-right', 'revision 2')
    c.wait_text('#revision-diff', 'Revision 1')
    added = c.driver.find_elements(By.CSS_SELECTOR, '#revision-diff .add')
    assert any('"retries": 2' in a.text for a in added), [a.text for a in added]
    assert server.call('GET', '/api/taskdefs/console-train')['revision'] == 2
    c.page_done('taskdef-revisions')

    # Run it twice from the form; both tasks succeed in the list; one log is read.
    c.fill('#run-count', '2')
    c.click('#run')
    c.wait(lambda d: '#/tasks?group=' in d.current_url, 'the run group\'s task list')
    c.wait(lambda d: d.find_element(By.ID, 'tasks').text.count('SUCCEEDED') == 2, 'both tasks SUCCEEDED', 180)
    c.page_done('tasks-succeeded')
    c.click('#tasks tbody tr a')
    c.wait(lambda d: '#/tasks/' in d.current_url, 'a task\'s page')
    first = c.driver.current_url.split('#/tasks/')[1]
    c.wait_text('#task-state', 'SUCCEEDED')
    c.wait_text('#log', 'weighted F1')
    c.click('#log-stderr')
    c.click('#log-stdout')
    c.wait_text('#log', 'weighted F1')
    log = server.call('GET', f'/api/tasks/{first}/logs')['data']
    assert c.text('#log').strip() == log.strip(), 'the page shows the task\'s whole stdout'
    c.page_done('task-log')

    # A running task's log followed live, without reloading the page; then stopped from the page.
    server.call('POST', '/api/taskdefs', {
        'name': 'console-ticker', 'timeout': '2m',
        'command': ['/bin/sh', '-c', 'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo tick $i; sleep 0.1; done']})
    ticker = server.call('POST', '/api/runs', {'taskdef': 'console-ticker'})['tasks'][0]['id']
    c.go(f'/tasks/{ticker}')
    c.wait_text('#task-state', 'RUNNING')
    c.wait_text('#log', 'tick 5')
    c.wait_text('#log', 'tick 30')  # the same page, later: the log followed
    c.click('#stop')
    c.find('#confirm[open]')
    c.click('#confirm-ok')
    c.wait(lambda d: d.find_element(By.ID, 'task-state').text in ('CANCELLED', 'FAILED'), 'the task stopped')
    stopped = server.call('GET', f'/api/tasks/{ticker}')
    assert stopped['state'] in ('CANCELLED', 'FAILED') and 'tick 600' not in c.text('#log'), stopped
    c.page_done('task-stopped')

    # The model: versions, scores, the confusion matrix as a heat map, lineage to the task.
    c.go('/models/wine')
    c.find('#confusion')
    cells = c.driver.find_elements(By.CSS_SELECTOR, '#confusion tbody td')
    assert len(cells) == 36, f'6 x 6 wine classes, got {len(cells)} cells'
    assert all(cell.value_of_css_property('background-color') not in ('', 'rgba(0, 0, 0, 0)') for cell in cells)
    c.find('#lineage-task')
    c.page_done('model-confusion')

    # An endpoint over both versions, with traffic; the charts move.
    port = free_port()
    endpoint = {'name': 'console', 'port': port, 'replicas': {'min': 1, 'cpus': 0.25},
                'variants': [{'name': 'blue', 'model': 'wine@1', 'weight': 90},
                             {'name': 'green', 'model': 'wine@2', 'weight': 10}],
                'capture': {'mode': 'async', 'sample_percent': 100}}
    server.call('POST', '/api/endpoints', endpoint)
    traffic = Traffic(f'http://127.0.0.1:{port}/v2/models/console/infer')
    traffic.start()
    try:
        c.go('/endpoints/console')
        c.wait_text('#replica-count', '1 ready', 90)
        c.wait(lambda d: int(d.find_element(By.ID, 'charts').get_attribute('data-points') or 0) >= 4,
               'four points on the traffic charts', 60)
        c.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#chart-rps canvas')) == 1, 'the req/s chart drawn')
        assert traffic.answered > 0
        legend = c.text('#chart-rps')
        assert 'blue@1' in legend and 'green@2' in legend, legend
        # The page's quantiles from histogram buckets are the server's (the canary guard's) arithmetic.
        metrics = server.call('GET', '/api/endpoints/console/metrics')
        for v in metrics['variants']:
            p50, p99 = c.driver.execute_async_script(
                "const [buckets, bounds, done] = arguments;"
                "import('/js/charts.js').then((m) => done([m.quantileMs(buckets, bounds, 0.5), m.quantileMs(buckets, bounds, 0.99)]));",
                v['buckets'], metrics['latency_bounds_s'])
            assert abs(p50 - v['p50_ms']) < 1e-6 and abs(p99 - v['p99_ms']) < 1e-6, (p50, p99, v)
        c.page_done('endpoint-live')

        # New weights from the editor make revision 2; rollback (confirmed) makes 3 with the old weights.
        c.fill('#weight-blue', '50')
        c.fill('#weight-green', '50')
        c.click('#apply-weights')
        c.wait_text('#current-revision', '2')
        weights = [v['weight'] for v in server.call('GET', '/api/endpoints/console/revisions/2')['spec']['variants']]
        assert weights == [50, 50], weights
        c.page_done('endpoint-weights')
        c.click('#rollback')
        c.find('#confirm[open]')
        c.shot('rollback-confirm')
        c.click('#confirm-ok')
        c.wait_text('#current-revision', '3')
        third = server.call('GET', '/api/endpoints/console/revisions/3')
        assert [v['weight'] for v in third['spec']['variants']] == [90, 10], third['spec']
        assert 'rollback' in third['reason'], third['reason']
        c.wait(lambda d: d.find_element(By.ID, 'weight-blue').get_attribute('value') == '90', 'the editor shows 90')
        c.page_done('endpoint-rolled-back')

        # Captures: the list, one request's inputs, a variant filter.
        c.go('/captures?endpoint=console')
        c.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#captures tbody tr')) > 0, 'captures listed', 30)
        c.click('#captures tbody tr')
        c.wait_text('#capture-detail', '7.4')
        c.page_done('captures')
        c.fill('#variant', 'green')
        c.click('#search')

        def variants_listed(d):  # the table is replaced when the answer comes: read it whole, or try again
            return {r.find_elements(By.TAG_NAME, 'td')[2].text
                    for r in d.find_elements(By.CSS_SELECTOR, '#captures tbody tr')}
        c.wait(lambda d: variants_listed(d) == {'green'}, 'only green captures listed', 30)
        c.page_done('captures-filtered')
        # Export what the filter selects, as the browser downloads it.
        listed = len(c.driver.find_elements(By.CSS_SELECTOR, '#captures tbody tr'))
        c.click('#export-csv')
        exported = os.path.join(c.downloads, 'console-captures.csv')
        c.wait(lambda d: os.path.exists(exported), 'the CSV downloaded')
        with open(exported) as f:
            lines = f.read().splitlines()
        assert lines[0].startswith('id,time,'), lines[0]
        assert len(lines) - 1 >= listed and all(',green,' in line for line in lines[1:]), lines[:3]
        c.page_done('captures-exported')

        # Drift of the live inputs, all 11 features.
        c.go('/drift?endpoint=console')
        c.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#drift-features tbody tr')) == 11, 'the drift table')
        c.page_done('drift')

        # The overview with what runs now, and the lists.
        c.go('/')
        c.wait_text('#endpoints', 'console')
        c.wait_text('#running', 'endpoint.console')  # its replica, a task
        c.page_done('overview')
        for fragment, css, name in [('/taskdefs', '#taskdefs', 'taskdefs'), ('/tasks', '#tasks', 'tasks'),
                                    ('/models', '#models', 'models'), ('/endpoints', '#endpoints', 'endpoints')]:
            c.go(fragment)
            c.find(css)
            c.page_done(name)
    finally:
        traffic.halt.set()
        traffic.join()
        server.call('DELETE', '/api/endpoints/console')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--wharf', required=True)
    parser.add_argument('--data', required=True, help='the wine CSVs')
    parser.add_argument('--artifacts', required=True, help='where the screenshots go')
    args = parser.parse_args()
    for path, package in [(CHROMIUM, 'chromium'), (CHROMEDRIVER, 'chromium-driver')]:
        if not os.path.exists(path):
            skip(f'{path} is missing; scripts/install-deps installs {package}')
    shutil.rmtree(args.artifacts, ignore_errors=True)
    os.makedirs(args.artifacts)
    home = tempfile.mkdtemp(prefix='wharf-console-')
    server = Server(args.wharf, home)
    console = None
    try:
        console = Console(server.url, args.artifacts)
        check_console(server, console, args.data)
        print(f'console: every page passed; screenshots in {args.artifacts}')
    except Exception as e:  # an assertion, or the browser or server failing under it
        if console:
            console.shot('failure')
        print(f'FAILED: {type(e).__name__}: {e}\n--- server output ---\n{server.output()[-4000:]}')
        return 1
    finally:
        if console:
            console.quit()
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
